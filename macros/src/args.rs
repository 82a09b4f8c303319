//! Parsing and validation of the arguments given to `#[smp_rt::main(..)]` and
//! `#[smp_rt::test(..)]`.

use proc_macro2::{Span, TokenStream};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{Expr, ExprLit, Lit, LitInt, Meta, MetaNameValue, Token};

/// The names of the accepted arguments, in the order they are listed in error
/// messages.
/// The smallest `reductions` a runtime accepts: the executor's
/// `runtime::MIN_REDUCTIONS` (`tests/macros.rs` checks that they agree).
const MIN_REDUCTIONS: u32 = 66;

const ACCEPTED: &str = "`flavor`, `worker_threads`, `reductions`, `start_paused` and `name`";

/// Which runtime flavor to build.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Flavor {
    /// `Builder::new_multi_thread()`: one worker per core unless
    /// `worker_threads` says otherwise.
    MultiThread,
    /// `Builder::new_current_thread()`: one worker, on the calling thread.
    CurrentThread,
    /// `Builder::new_current_thread().build_local(..)`: a current-thread
    /// runtime whose `block_on` also runs `spawn_local` tasks.
    Local,
}

impl Flavor {
    /// The flavor without a `flavor` argument, as in tokio: `main` runs a
    /// pool of workers, `test` runs on the test's own thread.
    fn default_for(attr_name: &str) -> Self {
        if attr_name == "test" {
            Self::CurrentThread
        } else {
            Self::MultiThread
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        match name {
            "multi_thread" => Some(Self::MultiThread),
            "current_thread" => Some(Self::CurrentThread),
            "local" => Some(Self::Local),
            _ => None,
        }
    }
}

/// A validated argument value, remembering where it was written so the
/// expansion can point back at it.
#[derive(Clone, Debug)]
pub(crate) struct Located<T> {
    pub(crate) value: T,
    pub(crate) span: Span,
}

/// The validated arguments of one attribute.
#[derive(Clone, Debug)]
pub(crate) struct Config {
    pub(crate) flavor: Flavor,
    pub(crate) worker_threads: Option<Located<usize>>,
    pub(crate) reductions: Option<Located<u32>>,
    pub(crate) start_paused: Option<Located<bool>>,
    /// The runtime's name (`Builder::name`), as tokio's `name = "..."`.
    pub(crate) name: Option<syn::LitStr>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            flavor: Flavor::MultiThread,
            worker_threads: None,
            reductions: None,
            start_paused: None,
            name: None,
        }
    }
}

/// Collects every problem found, so that all of them are reported at once.
#[derive(Default)]
pub(crate) struct Errors(Option<syn::Error>);

impl Errors {
    pub(crate) fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(first) => first.combine(error),
            None => self.0 = Some(error),
        }
    }

    pub(crate) fn into_result(self) -> Result<(), syn::Error> {
        self.0.map_or(Ok(()), Err)
    }
}

/// Parses the attribute's arguments.
///
/// Problems are pushed to `errors`; the returned configuration holds every
/// argument that was valid, so that the function can still be expanded (and
/// the user sees only the errors that matter).
pub(crate) fn parse(attr_name: &str, args: TokenStream, errors: &mut Errors) -> Config {
    let mut config = Config {
        flavor: Flavor::default_for(attr_name),
        ..Config::default()
    };
    let metas = match Punctuated::<Meta, Token![,]>::parse_terminated.parse2(args) {
        Ok(metas) => metas,
        Err(error) => {
            errors.push(syn::Error::new(
                error.span(),
                format!(
                    "{error}; `#[smp_rt::{attr_name}]` takes comma-separated `name = value` \
                     arguments, e.g. `#[smp_rt::{attr_name}(worker_threads = 4, reductions = 2000)]`"
                ),
            ));
            return config;
        }
    };

    let mut flavor: Option<Flavor> = None;
    let mut worker_threads_arg: Option<Meta> = None;
    let mut start_paused_arg: Option<Meta> = None;
    let mut seen: Vec<String> = Vec::new();
    for meta in metas {
        let name = meta.path().get_ident().map(ToString::to_string);
        let Some(name) = name else {
            errors.push(syn::Error::new_spanned(
                meta.path(),
                format!(
                    "unknown argument `{}`; the accepted arguments are {ACCEPTED}",
                    path_to_string(meta.path())
                ),
            ));
            continue;
        };
        if !matches!(
            name.as_str(),
            "flavor" | "worker_threads" | "reductions" | "start_paused" | "name"
        ) {
            errors.push(syn::Error::new_spanned(
                meta.path(),
                format!("unknown argument `{name}`; the accepted arguments are {ACCEPTED}"),
            ));
            continue;
        }
        if seen.contains(&name) {
            errors.push(syn::Error::new_spanned(
                &meta,
                format!("the `{name}` argument is given more than once; keep only one"),
            ));
            continue;
        }
        seen.push(name.clone());

        let example = match name.as_str() {
            "flavor" => "flavor = \"current_thread\"",
            "worker_threads" => "worker_threads = 4",
            "start_paused" => "start_paused = true",
            "name" => "name = \"my-runtime\"",
            _ => "reductions = 2000",
        };
        let value = match &meta {
            Meta::NameValue(MetaNameValue { value, .. }) => value,
            Meta::Path(_) | Meta::List(_) => {
                errors.push(syn::Error::new_spanned(
                    &meta,
                    format!("the `{name}` argument needs a value, e.g. `{example}`"),
                ));
                continue;
            }
        };

        match name.as_str() {
            "flavor" => match parse_flavor(value) {
                Ok(parsed) => flavor = Some(parsed),
                Err(error) => errors.push(error),
            },
            "name" => match value {
                Expr::Lit(ExprLit {
                    lit: Lit::Str(lit), ..
                }) if !lit.value().trim().is_empty() => config.name = Some(lit.clone()),
                other => errors.push(syn::Error::new_spanned(
                    other,
                    format!("`name` expects a non-empty string literal, e.g. `{example}`"),
                )),
            },
            "start_paused" => match parse_bool(&name, example, value) {
                Ok(parsed) => {
                    config.start_paused = Some(parsed);
                    start_paused_arg = Some(meta.clone());
                }
                Err(error) => errors.push(error),
            },
            "worker_threads" => match parse_positive::<usize>(&name, example, value) {
                Ok(parsed) => {
                    config.worker_threads = Some(parsed);
                    worker_threads_arg = Some(meta.clone());
                }
                Err(error) => errors.push(error),
            },
            _ => match parse_positive::<u32>(&name, example, value) {
                Ok(parsed) if parsed.value < MIN_REDUCTIONS => {
                    errors.push(syn::Error::new_spanned(
                        value,
                        format!(
                            "`reductions` must be at least {MIN_REDUCTIONS}, e.g. `{example}`: a \
                             task's poll charges one reduction for itself and one per smp_rt \
                             future it polls (up to 64 for a `select!`), and a smaller slice \
                             can stop a task at the same await point forever"
                        ),
                    ));
                }
                Ok(parsed) => config.reductions = Some(parsed),
                Err(error) => errors.push(error),
            },
        }
    }

    match (flavor, &config.worker_threads) {
        (Some(parsed), _) => config.flavor = parsed,
        // `worker_threads` asks for a pool of workers, whatever the
        // attribute's default flavor.
        (None, Some(_)) => config.flavor = Flavor::MultiThread,
        (None, None) => {}
    }
    if let (Some(one @ (Flavor::CurrentThread | Flavor::Local)), Some(arg)) =
        (flavor, worker_threads_arg)
    {
        let name = if one == Flavor::Local {
            "local"
        } else {
            "current_thread"
        };
        errors.push(syn::Error::new_spanned(
            arg,
            format!(
                "`worker_threads` cannot be used with `flavor = \"{name}\"`, which always \
                 runs exactly one worker on the calling thread; remove `worker_threads`, or use \
                 `flavor = \"multi_thread\"` to choose the number of workers"
            ),
        ));
        config.worker_threads = None;
    }
    // A paused clock needs the current-thread flavor (as in tokio). Asked for
    // without a flavor, it selects that flavor, so that
    // `#[smp_rt::test(start_paused = true)]` works as written for tokio.
    if let Some(arg) =
        start_paused_arg.filter(|_| config.start_paused.as_ref().is_some_and(|p| p.value))
    {
        match (flavor, &config.worker_threads) {
            (Some(Flavor::MultiThread), _) => errors.push(syn::Error::new_spanned(
                arg,
                "`start_paused = true` cannot be used with `flavor = \"multi_thread\"`: only a \
                 current-thread runtime can pause its clock (as in tokio); remove `flavor`, or \
                 write `flavor = \"current_thread\"`",
            )),
            (None, Some(_)) => errors.push(syn::Error::new_spanned(
                arg,
                "`start_paused = true` cannot be used with `worker_threads`, which asks for a \
                 multi-thread runtime: only a current-thread runtime can pause its clock (as in \
                 tokio); remove `worker_threads`",
            )),
            (Some(Flavor::Local), _) => {}
            _ => config.flavor = Flavor::CurrentThread,
        }
    }
    config
}

fn parse_bool(name: &str, example: &str, value: &Expr) -> Result<Located<bool>, syn::Error> {
    match value {
        Expr::Lit(ExprLit {
            lit: Lit::Bool(lit),
            ..
        }) => Ok(Located {
            value: lit.value,
            span: lit.span(),
        }),
        other => Err(syn::Error::new_spanned(
            other,
            format!("`{name}` expects `true` or `false`, e.g. `{example}`"),
        )),
    }
}

fn parse_flavor(value: &Expr) -> Result<Flavor, syn::Error> {
    match value {
        Expr::Lit(ExprLit {
            lit: Lit::Str(lit), ..
        }) => Flavor::from_name(&lit.value()).ok_or_else(|| {
            syn::Error::new_spanned(
                lit,
                format!(
                    "unknown runtime flavor {:?}; the valid flavors are \"multi_thread\", \
                     \"current_thread\" and \"local\"",
                    lit.value()
                ),
            )
        }),
        other => {
            let hint = match other {
                Expr::Path(path) => path
                    .path
                    .get_ident()
                    .map(ToString::to_string)
                    .filter(|name| Flavor::from_name(name).is_some())
                    .map(|name| format!(": write `flavor = \"{name}\"`"))
                    .unwrap_or_default(),
                _ => String::new(),
            };
            Err(syn::Error::new_spanned(
                other,
                format!(
                    "`flavor` expects a string literal, \"multi_thread\", \"current_thread\" or \
                     \"local\"{hint}"
                ),
            ))
        }
    }
}

fn parse_positive<N>(name: &str, example: &str, value: &Expr) -> Result<Located<N>, syn::Error>
where
    N: std::str::FromStr + std::fmt::Display + Bounded,
{
    let lit: &LitInt = match value {
        Expr::Lit(ExprLit {
            lit: Lit::Int(lit), ..
        }) => lit,
        other => {
            return Err(syn::Error::new_spanned(
                other,
                format!("`{name}` expects a positive integer literal, e.g. `{example}`"),
            ));
        }
    };
    let digits = lit.base10_digits();
    if digits.starts_with('-') || digits.bytes().all(|digit| digit == b'0') {
        return Err(syn::Error::new_spanned(
            lit,
            format!("`{name}` must be at least 1, e.g. `{example}`"),
        ));
    }
    let parsed: N = digits.parse().map_err(|_| {
        syn::Error::new_spanned(
            lit,
            format!(
                "`{name} = {digits}` is too large; the largest accepted value is {}",
                N::MAX
            ),
        )
    })?;
    Ok(Located {
        value: parsed,
        span: lit.span(),
    })
}

/// The largest value an argument of this type accepts.
trait Bounded: Sized {
    const MAX: Self;
}

impl Bounded for usize {
    const MAX: Self = usize::MAX;
}

impl Bounded for u32 {
    const MAX: Self = u32::MAX;
}

fn path_to_string(path: &syn::Path) -> String {
    let segments: Vec<String> = path
        .segments
        .iter()
        .map(|segment| segment.ident.to_string())
        .collect();
    let joined = segments.join("::");
    if path.leading_colon.is_some() {
        format!("::{joined}")
    } else {
        joined
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn run(args: TokenStream) -> (Config, Result<(), syn::Error>) {
        run_as("main", args)
    }

    fn run_as(attr_name: &str, args: TokenStream) -> (Config, Result<(), syn::Error>) {
        let mut errors = Errors::default();
        let config = parse(attr_name, args, &mut errors);
        (config, errors.into_result())
    }

    fn error_text(args: TokenStream) -> String {
        let (_, result) = run(args);
        result
            .expect_err("expected an error")
            .into_iter()
            .map(|error| error.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn main_without_arguments_means_multi_thread() {
        let (config, result) = run(quote!());
        assert!(result.is_ok());
        assert_eq!(config.flavor, Flavor::MultiThread);
        assert!(config.worker_threads.is_none());
        assert!(config.reductions.is_none());
    }

    #[test]
    fn test_without_arguments_means_current_thread() {
        let (config, result) = run_as("test", quote!());
        assert!(result.is_ok());
        assert_eq!(config.flavor, Flavor::CurrentThread);
        let (config, result) = run_as("test", quote!(reductions = 100));
        assert!(result.is_ok());
        assert_eq!(config.flavor, Flavor::CurrentThread);
        let (config, result) = run_as("test", quote!(flavor = "multi_thread"));
        assert!(result.is_ok());
        assert_eq!(config.flavor, Flavor::MultiThread);
    }

    #[test]
    fn worker_threads_without_flavor_means_multi_thread() {
        for attr_name in ["main", "test"] {
            let (config, result) = run_as(attr_name, quote!(worker_threads = 3));
            assert!(result.is_ok());
            assert_eq!(config.flavor, Flavor::MultiThread, "{attr_name}");
            assert_eq!(config.worker_threads.map(|w| w.value), Some(3));
        }
        let text = {
            let (_, result) = run_as("test", quote!(start_paused = true, worker_threads = 2));
            result.expect_err("expected an error").to_string()
        };
        assert!(
            text.contains("cannot be used with `worker_threads`"),
            "{text}"
        );
    }

    #[test]
    fn all_arguments_are_read() {
        let (config, result) = run(quote!(
            flavor = "multi_thread",
            worker_threads = 4,
            reductions = 2000,
        ));
        assert!(result.is_ok());
        assert_eq!(config.flavor, Flavor::MultiThread);
        assert_eq!(config.worker_threads.map(|w| w.value), Some(4));
        assert_eq!(config.reductions.map(|r| r.value), Some(2000));
    }

    #[test]
    fn current_thread_is_read() {
        let (config, result) = run(quote!(flavor = "current_thread", reductions = 700));
        assert!(result.is_ok());
        assert_eq!(config.flavor, Flavor::CurrentThread);
        assert_eq!(config.reductions.map(|r| r.value), Some(700));
    }

    #[test]
    fn suffixed_integers_are_accepted() {
        let (config, result) = run(quote!(worker_threads = 2usize, reductions = 100u32));
        assert!(result.is_ok());
        assert_eq!(config.worker_threads.map(|w| w.value), Some(2));
        assert_eq!(config.reductions.map(|r| r.value), Some(100));
    }

    #[test]
    fn reductions_below_the_runtimes_minimum_are_rejected() {
        let text = error_text(quote!(reductions = 65));
        assert!(text.contains("at least 66"), "{text}");
        assert!(run(quote!(reductions = 66)).1.is_ok());
    }

    #[test]
    fn name_takes_a_non_empty_string() {
        let (config, result) = run(quote!(name = "my-runtime"));
        assert!(result.is_ok());
        assert_eq!(
            config.name.map(|lit| lit.value()).as_deref(),
            Some("my-runtime")
        );
        let text = error_text(quote!(name = ""));
        assert!(text.contains("non-empty string literal"), "{text}");
        let text = error_text(quote!(name = 4));
        assert!(text.contains("non-empty string literal"), "{text}");
    }

    #[test]
    fn unknown_argument_lists_accepted_ones() {
        let text = error_text(quote!(workers = 4));
        assert!(text.contains("unknown argument `workers`"), "{text}");
        assert!(text.contains("`worker_threads`"), "{text}");
        let text = error_text(quote!(a::b = 4));
        assert!(text.contains("unknown argument `a::b`"), "{text}");
    }

    #[test]
    fn bad_flavor_lists_valid_ones() {
        let text = error_text(quote!(flavor = "single"));
        assert!(text.contains("unknown runtime flavor \"single\""), "{text}");
        assert!(text.contains("\"current_thread\""), "{text}");
        assert!(text.contains("\"local\""), "{text}");
        let text = error_text(quote!(flavor = current_thread));
        assert!(text.contains("`flavor = \"current_thread\"`"), "{text}");
    }

    #[test]
    fn zero_and_non_integers_are_rejected() {
        assert!(error_text(quote!(worker_threads = 0)).contains("at least 1"));
        assert!(error_text(quote!(reductions = 0)).contains("at least 1"));
        assert!(error_text(quote!(reductions = "10")).contains("positive integer literal"));
        assert!(error_text(quote!(worker_threads = -1)).contains("at least 1"));
        assert!(error_text(quote!(worker_threads = -x)).contains("positive integer literal"));
        assert!(error_text(quote!(reductions = 00)).contains("at least 1"));
        assert!(error_text(quote!(worker_threads = 1.5)).contains("positive integer literal"));
        assert!(error_text(quote!(reductions = 5000000000)).contains("too large"));
    }

    #[test]
    fn missing_values_and_duplicates_are_rejected() {
        assert!(error_text(quote!(worker_threads)).contains("needs a value"));
        let twice = error_text(quote!(reductions = 100, reductions = 200));
        assert!(twice.contains("more than once"), "{twice}");
    }

    #[test]
    fn local_is_read() {
        let (config, result) = run(quote!(flavor = "local", reductions = 700));
        assert!(result.is_ok());
        assert_eq!(config.flavor, Flavor::Local);
        assert_eq!(config.reductions.map(|r| r.value), Some(700));
    }

    #[test]
    fn local_keeps_its_flavor_with_start_paused() {
        let (config, result) = run(quote!(flavor = "local", start_paused = true));
        assert!(result.is_ok());
        assert_eq!(config.flavor, Flavor::Local);
    }

    #[test]
    fn worker_threads_conflicts_with_local() {
        let (config, result) = run(quote!(flavor = "local", worker_threads = 2));
        let text = result.expect_err("expected an error").to_string();
        assert!(text.contains("`flavor = \"local\"`"), "{text}");
        assert!(config.worker_threads.is_none());
    }

    #[test]
    fn worker_threads_conflicts_with_current_thread() {
        let (config, result) = run(quote!(flavor = "current_thread", worker_threads = 2));
        let text = result.expect_err("expected an error").to_string();
        assert!(text.contains("cannot be used with"), "{text}");
        assert!(config.worker_threads.is_none());
    }

    #[test]
    fn every_problem_is_reported() {
        let (_, result) = run(quote!(flavor = "x", worker_threads = 0, bogus = 1));
        assert_eq!(result.expect_err("expected errors").into_iter().count(), 3);
    }

    #[test]
    fn start_paused_selects_current_thread() {
        let (config, result) = run(quote!(start_paused = true));
        assert!(result.is_ok());
        assert_eq!(config.flavor, Flavor::CurrentThread);
        assert_eq!(config.start_paused.map(|p| p.value), Some(true));

        let (config, result) = run(quote!(flavor = "current_thread", start_paused = true));
        assert!(result.is_ok());
        assert_eq!(config.flavor, Flavor::CurrentThread);

        let (config, result) = run(quote!(start_paused = false));
        assert!(result.is_ok());
        assert_eq!(config.flavor, Flavor::MultiThread);
        assert_eq!(config.start_paused.map(|p| p.value), Some(false));
    }

    #[test]
    fn start_paused_conflicts_with_multi_thread() {
        let text = error_text(quote!(flavor = "multi_thread", start_paused = true));
        assert!(text.contains("only a current-thread runtime"), "{text}");
        let text = error_text(quote!(start_paused = true, worker_threads = 2));
        assert!(
            text.contains("cannot be used with `worker_threads`"),
            "{text}"
        );
        assert!(
            run(quote!(flavor = "multi_thread", start_paused = false))
                .1
                .is_ok()
        );
    }

    #[test]
    fn start_paused_must_be_a_bool() {
        let text = error_text(quote!(start_paused = 1));
        assert!(text.contains("expects `true` or `false`"), "{text}");
        let text = error_text(quote!(start_paused = "true"));
        assert!(text.contains("expects `true` or `false`"), "{text}");
        assert!(error_text(quote!(start_paused)).contains("needs a value"));
    }

    #[test]
    fn malformed_arguments_are_explained() {
        let text = error_text(quote!(worker_threads = 4 reductions = 2));
        assert!(text.contains("comma-separated"), "{text}");
    }
}
