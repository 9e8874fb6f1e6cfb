//! Thin glue: one function per subcommand, from parsed flags to a container verb and output.

mod criu;
mod duration;
mod events;
mod exec;
mod fds;
mod info;
mod lifecycle;
mod query;
mod resources;

use crate::cli::{Cli, Command, GlobalArgs};

use crate::container::StateStore;
use crate::error::Error;
pub use fds::check_preserved_fds;

/// Run the parsed command line; returns the process exit code.
pub fn dispatch(cli: Cli) -> Result<i32, Error> {
    if cli.version {
        info::version();
        return Ok(0);
    }
    let Some(command) = cli.command else {
        return Err(Error::Usage("no command given (see ferrun --help)".into()));
    };
    let g = &cli.global;
    crate::debug!(
        "ferrun {} (state root {})",
        env!("CARGO_PKG_VERSION"),
        state_root(g).display()
    );
    match command {
        Command::Spec(a) => info::spec(&a).map(|()| 0),
        Command::Features => info::features().map(|()| 0),
        Command::State(a) => query::state(&store(g)?, &a.id).map(|()| {
            crate::debug!("state: reported container {:?}", a.id);
            0
        }),
        Command::List(a) => query::list(&store(g)?, &a).map(|()| 0),
        Command::Create(a) => lifecycle::create(&store(g)?, g, &a).map(|()| 0),
        Command::Start(a) => lifecycle::start(&store(g)?, &a.id).map(|()| 0),
        Command::Run(a) => lifecycle::run(&store(g)?, g, &a),
        Command::Kill(a) => lifecycle::kill(&store(g)?, &a).map(|()| 0),
        Command::Delete(a) => lifecycle::delete(&store(g)?, &a).map(|()| 0),
        // runc: exec exits with the process's status, or 255 with "exec failed: ...".
        Command::Exec(a) => store(g)
            .and_then(|s| exec::exec(&s, &a))
            .map_err(Error::in_exec),
        Command::Pause(a) => lifecycle::pause(&store(g)?, &a.id, true).map(|()| 0),
        Command::Resume(a) => lifecycle::pause(&store(g)?, &a.id, false).map(|()| 0),
        Command::Update(a) => resources::update(&store(g)?, &a).map(|()| {
            crate::debug!("update: resources of container {:?} updated", a.id);
            0
        }),
        Command::Events(a) => events::events(&store(g)?, &a).map(|()| 0),
        Command::Ps(a) => query::ps(&store(g)?, &a).map(|()| {
            crate::debug!("ps: listed the processes of container {:?}", a.id);
            0
        }),
        Command::Checkpoint(a) => criu::checkpoint(&store(g)?, g, &a).map(|()| 0),
        Command::Restore(a) => criu::restore(&store(g)?, g, &a),
        // runc's `h` is its `help`.
        Command::Other(args) if args.first().is_some_and(|a| a == "h") => {
            info::help(args.get(1).map(String::as_str))
        }
        Command::Other(args) => Err(Error::UnknownCommand(
            args.into_iter().next().unwrap_or_default(),
        )),
    }
}

/// The state root: `--root`, else /run/ferrun for root and $XDG_RUNTIME_DIR/ferrun otherwise
/// (runc's rule: [`crate::rootless::default_root`]).
fn store(g: &GlobalArgs) -> Result<StateStore, Error> {
    Ok(StateStore::new(state_root(g)))
}

fn state_root(g: &GlobalArgs) -> std::path::PathBuf {
    match &g.root {
        Some(r) => r.clone(),
        None => crate::rootless::default_root(
            nix::unistd::geteuid().as_raw(),
            std::env::var_os("XDG_RUNTIME_DIR"),
        ),
    }
}

/// `--rootless` combined with the caller's euid and whether it runs in a user namespace.
pub(crate) fn rootless(g: &GlobalArgs) -> crate::rootless::Rootless {
    crate::rootless::Rootless::decide(&g.rootless, nix::unistd::geteuid().as_raw(), || {
        let uid_map = std::fs::read_to_string("/proc/self/uid_map").ok();
        crate::rootless::in_user_namespace(uid_map.as_deref())
    })
}
