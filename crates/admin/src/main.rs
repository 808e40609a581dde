//! `mqadmin`: entry point. Picks the subcommand (case-insensitive, like 4.8.0),
//! hands the remaining words to its clap parser, and turns a failure into 4.8.0's
//! "... command failed" report with a non-zero exit status.
//!
//! Book: Part II "Topics and queues" (Try it). Mirrors
//! `org.apache.rocketmq.tools.command.MQAdminStartup.main0`.

use std::io::Write;
use std::process::ExitCode;

use rmq_admin::commands;

fn main() -> ExitCode {
    // Without RUST_LOG: warnings, but only errors from the client library, whose warnings
    // 4.8.0 writes to its own rocketmq_client.log rather than to the tool's console (the
    // failure itself is reported below either way).
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,rmq_client=error")),
        )
        .with_writer(std::io::stderr)
        .init();
    // args_os: an argument that is not UTF-8 must be an error, not a panic
    let mut args: Vec<String> = Vec::new();
    for a in std::env::args_os().skip(1) {
        match a.into_string() {
            Ok(s) => args.push(s),
            Err(bad) => {
                eprintln!("argument {bad:?} is not valid UTF-8");
                return ExitCode::FAILURE;
            }
        }
    }
    let mut stdout = std::io::stdout();
    if args.is_empty() {
        let _ = commands::print_help(&mut stdout);
        return ExitCode::SUCCESS;
    }
    if args.len() == 2 && args[0] == "help" {
        return match commands::find(&args[1]) {
            Some(info) => {
                let _ = commands::print_command_help(info, &mut stdout);
                ExitCode::SUCCESS
            }
            None => {
                println!("The sub command {} not exist.", args[1]);
                ExitCode::FAILURE
            }
        };
    }
    let Some(info) = commands::find(&args[0]) else {
        println!("The sub command {} not exist.", args[0]);
        return ExitCode::FAILURE;
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(commands::execute(info, &args[1..], &mut stdout));
    let _ = stdout.flush();
    match result {
        Ok(commands::Outcome::Done) => ExitCode::SUCCESS,
        Ok(commands::Outcome::Usage(e)) => {
            // clap prints help/version to stdout and errors to stderr.
            let _ = e.print();
            if e.use_stderr() {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => {
            // 4.8.0: org.apache.rocketmq.tools.command.SubCommandException: <Class> command failed
            //        Caused by: <exception>
            eprintln!("org.apache.rocketmq.tools.command.SubCommandException: {e}");
            for cause in e.chain().skip(1) {
                eprintln!("Caused by: {cause}");
            }
            ExitCode::FAILURE
        }
    }
}
