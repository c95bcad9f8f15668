//! Converts a vcrpy or Ruby VCR YAML cassette to this crate's cassette format, and says
//! how long reading it took.
//!
//! `cargo run --example vcr --features record -- tests/cassettes/vcr/vcr_ruby.yml /tmp/vcr_ruby.json`

use std::time::Instant;

use http_intercept::record::{yaml, Cassette, Mode};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [from, to] = &args[..] else {
        eprintln!("usage: vcr FROM.yaml TO.json");
        std::process::exit(2);
    };
    // Replaying the YAML file as it is: what a test that opens it pays.
    let start = Instant::now();
    let cassette = Cassette::open(from)?;
    let opened = start.elapsed();
    println!(
        "{from}: {} interactions for {:?}, opened in {opened:.2?}",
        cassette.len(),
        cassette.origins()
    );
    cassette.finish()?;

    let start = Instant::now();
    let n = yaml::convert(from, to)?;
    println!("{to}: {n} interactions written in {:.2?}", start.elapsed());

    // The converted cassette opens as this crate's format.
    let start = Instant::now();
    let converted = Cassette::builder(to)
        .mode(Mode::Replay)
        .mode_from_env(false)
        .open()?;
    println!("{to}: opened in {:.2?}", start.elapsed());
    converted.finish()?;
    Ok(())
}
