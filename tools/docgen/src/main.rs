//! `ferrun-docgen OUT`: writes OUT/man and OUT/completions (`make man` gives it `target`).

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [out] = args.as_slice() else {
        eprintln!("usage: ferrun-docgen OUT (writes OUT/man/manN/ and OUT/completions/SHELL/)");
        std::process::exit(2);
    };
    match ferrun_docgen::generate(std::path::Path::new(out)) {
        Ok(files) => println!("ferrun-docgen: {} files under {out}", files.len()),
        Err(e) => {
            eprintln!("ferrun-docgen: {e}");
            std::process::exit(1);
        }
    }
}
