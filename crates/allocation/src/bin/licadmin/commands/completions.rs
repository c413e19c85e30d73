//! `licadmin completions SHELL` and `licadmin man`: generated from the clap definitions,
//! they need no store.

use clap::{Args, CommandFactory};

use crate::{Cli, Command};

/// `licadmin completions`'s argument.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  licadmin completions bash > /etc/bash_completion.d/licadmin")]
pub(crate) struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    shell: clap_complete::Shell,
}

/// `licadmin man`'s examples.
pub(crate) const MAN_HELP: &str = "Examples:\n  licadmin man | man -l -";

/// What `completions SHELL` and `man` print; `None` for the other commands.
pub(crate) fn generated(c: &Command) -> Option<Vec<u8>> {
    let mut v = Vec::new();
    match c {
        Command::Completions(args) => {
            clap_complete::generate(args.shell, &mut Cli::command(), "licadmin", &mut v)
        }
        Command::Man => clap_mangen::Man::new(Cli::command()).render(&mut v).ok()?,
        _ => return None,
    }
    Some(v)
}
