//! reqwest support, through an in-process loopback gateway.
