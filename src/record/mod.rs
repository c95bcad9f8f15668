//! Record and replay: cassettes, the recorder layer and the forwarding proxy.
