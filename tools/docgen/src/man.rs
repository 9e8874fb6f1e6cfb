//! Man pages: one for the program (`ferrun.8`) and one per command (`ferrun-create.8`, runc's
//! naming), rendered by clap_mangen from the definition the binary parses with.
//!
//! Which commands get no page, and why:
//! - clap's generated `help` command: it prints what `--help` prints, and runc has no
//!   `runc-help.8` either.
//! - hidden commands (`hide = true`): internal entry points, not for people to type. Neither
//!   program has one today; ferrun's CVE-2019-5736 re-exec runs the same command line again,
//!   not a command of its own.
//! - ferrun's catch-all for unknown commands (runc's "No help topic" error) is not a command.

use clap_mangen::Man;
use roff::{bold, roman, Roff};

use crate::program::{Program, VERSION};

/// A rendered page.
pub struct Page {
    /// The page's name, e.g. `ferrun-create`.
    pub name: String,
    /// The command line it documents, e.g. `ferrun create`.
    pub command: String,
    /// Its file name, e.g. `ferrun-create.8`.
    pub file: String,
    /// The roff source.
    pub roff: Vec<u8>,
}

/// Every page of a program: the main page first, then one per documented command, nested
/// commands included (`ferrun-a-b.8` for `ferrun a b`).
pub fn pages(program: &Program) -> Vec<Page> {
    let mut root = program
        .command
        .clone()
        .disable_help_subcommand(true)
        .subcommand_help_heading("COMMANDS")
        .subcommand_value_name("COMMAND")
        // ferrun's --root, --log, ... are taken before or after the command: under a heading
        // of their own on every page, after the command's own options.
        .mut_args(|a| {
            if a.is_global_set() {
                a.help_heading("GLOBAL OPTIONS")
            } else {
                a
            }
        });
    // Fills in each command's display name (`ferrun-create`) and bin name (`ferrun create`),
    // and gives it the global options, as the binary's parser sees them.
    root.build();
    let commands = documented_commands(&root);
    let mut pages = vec![main_page(program, &root, &commands)];
    let see_also = [format!("{}({})", program.bin, program.section)];
    pages.extend((commands.iter()).map(|cmd| render(program, cmd, &[], &[], &see_also)));
    pages
}

/// Whether a command gets a page (see the module documentation).
pub fn is_documented(cmd: &clap::Command) -> bool {
    !cmd.is_hide_set() && cmd.get_name() != "help"
}

/// Every documented command under `root`, nested ones included, each before its own
/// subcommands: the order of the pages and of the main page's SEE ALSO.
fn documented_commands(root: &clap::Command) -> Vec<&clap::Command> {
    fn walk<'a>(parent: &'a clap::Command, out: &mut Vec<&'a clap::Command>) {
        for cmd in parent.get_subcommands().filter(|c| is_documented(c)) {
            out.push(cmd);
            walk(cmd, out);
        }
    }
    let mut out = Vec::new();
    walk(root, &mut out);
    out
}

fn main_page(program: &Program, root: &clap::Command, commands: &[&clap::Command]) -> Page {
    let see_also: Vec<String> = (commands.iter())
        .map(|cmd| format!("{}({})", page_name(cmd), program.section))
        .chain(program.see_also.iter().map(|s| s.to_string()))
        .collect();
    render(
        program,
        root,
        program.description,
        program.sections,
        &see_also,
    )
}

/// `ferrun-create` for `ferrun create`: clap's display name once the root is built.
fn page_name(cmd: &clap::Command) -> String {
    cmd.get_display_name()
        .unwrap_or_else(|| cmd.get_name())
        .to_string()
}

/// clap_mangen's sections (NAME, SYNOPSIS, DESCRIPTION, OPTIONS, COMMANDS), the program's
/// prose as the main page's DESCRIPTION, then its extra sections, SEE ALSO and VERSION.
fn render(
    program: &Program,
    cmd: &clap::Command,
    description: &[&str],
    sections: &[(&str, &[&str])],
    see_also: &[String],
) -> Page {
    let man = Man::new(cmd.clone())
        .section(program.section)
        .source(format!("{} {VERSION}", program.bin))
        .manual(program.manual());
    let mut parts = Vec::new();
    write_page(
        &man,
        cmd,
        description,
        sections,
        see_also,
        program,
        &mut parts,
    )
    .expect("writing to a Vec cannot fail");
    let roff = single_preamble(&String::from_utf8(parts).expect("roff renders UTF-8"));
    let name = page_name(cmd);
    Page {
        file: format!("{name}.{}", program.section),
        command: cmd.get_bin_name().unwrap_or(cmd.get_name()).to_string(),
        name,
        roff: roff.into_bytes(),
    }
}

/// Every piece rendered by clap_mangen and roff starts with roff's apostrophe preamble (two
/// lines defining `\*(Aq`, which is all an empty `Roff` renders): the page keeps the first.
fn single_preamble(page: &str) -> String {
    let preamble = Roff::new().render();
    format!("{preamble}{}", page.replace(&preamble, ""))
}

fn write_page(
    man: &Man,
    cmd: &clap::Command,
    description: &[&str],
    sections: &[(&str, &[&str])],
    see_also: &[String],
    program: &Program,
    w: &mut Vec<u8>,
) -> std::io::Result<()> {
    man.render_title(w)?;
    man.render_name_section(w)?;
    man.render_synopsis_section(w)?;
    if description.is_empty() {
        man.render_description_section(w)?;
    } else {
        // The prose opens with what the NAME line says, at more length.
        Roff::new().control("SH", ["DESCRIPTION"]).to_writer(w)?;
        paragraphs(description).to_writer(w)?;
    }
    if cmd.get_arguments().any(|a| !a.is_hide_set()) {
        man.render_options_section(w)?;
    }
    if cmd.get_subcommands().any(is_documented) {
        man.render_subcommands_section(w)?;
    }
    for (heading, text) in sections {
        Roff::new().control("SH", [*heading]).to_writer(w)?;
        paragraphs(text).to_writer(w)?;
    }
    see_also_section(see_also).to_writer(w)?;
    version_section(program).to_writer(w)
}

fn paragraphs(text: &[&str]) -> Roff {
    let mut roff = Roff::new();
    for p in text {
        roff.control("PP", []).text([roman(*p)]);
    }
    roff
}

/// `ferrun-create(8), ferrun-delete(8), runc(8)`, names in bold as man-pages(7) asks.
fn see_also_section(pages: &[String]) -> Roff {
    let mut roff = Roff::new();
    // No hyphenation: "fer-run-check-point(8)" split over lines reads badly.
    roff.control("SH", ["SEE ALSO"]).control("nh", []);
    let mut line = Vec::new();
    for (i, page) in pages.iter().enumerate() {
        let (name, section) = page.split_once('(').unwrap_or((page, ""));
        if i > 0 {
            line.push(roman(", "));
        }
        line.push(bold(name));
        line.push(roman(format!("({section}")));
    }
    roff.text(line).control("hy", []);
    roff
}

fn version_section(program: &Program) -> Roff {
    let mut roff = Roff::new();
    roff.control("SH", ["VERSION"])
        .text([roman(format!("{} {VERSION}", program.bin))]);
    roff
}
