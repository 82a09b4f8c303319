//! Parsing and expansion of `select!`, `join!` and `try_join!`.
//!
//! The user-facing macros are `macro_rules!` wrappers in `smp_rt` that call
//! the entry points here with `$crate` as the first token, followed by `;`
//! and the user's input. Every support item is reached through
//! `$crate::__private`, so the expansion works however `smp_rt` is named in
//! the calling crate.
//!
//! Names introduced by the expansion (locals and the output enum) carry
//! `Span::mixed_site()`, so they can neither capture nor shadow names in the
//! user's expressions, patterns and handlers.

use proc_macro2::{Literal, Span, TokenStream, TokenTree};
use quote::{format_ident, quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Expr, Ident, Index, Pat, Token};

/// The largest number of branches a `select!` accepts: one bit of a `u64`
/// per branch tracks whether it is disabled.
const MAX_BRANCHES: usize = 64;

/// Whether the next two tokens are `biased ;`.
fn peek_biased(input: ParseStream<'_>) -> bool {
    let Some((ident, rest)) = input.cursor().ident() else {
        return false;
    };
    ident == "biased"
        && rest
            .punct()
            .is_some_and(|(punct, _)| punct.as_char() == ';')
}

/// Parses the `$crate ;` prefix the wrappers put in front of the input.
fn parse_crate_path(input: ParseStream<'_>) -> syn::Result<TokenTree> {
    let krate: TokenTree = input.parse()?;
    input.parse::<Token![;]>()?;
    Ok(krate)
}

// ===== select! =====

/// One `<pattern> = <async expression> [, if <precondition>] => <handler>`.
struct Branch {
    pat: Pat,
    fut: Expr,
    cond: Option<Expr>,
    handler: Expr,
}

/// The whole input of `select!`.
struct SelectInput {
    krate: TokenTree,
    biased: bool,
    branches: Vec<Branch>,
    else_branch: Option<Expr>,
}

/// Whether a handler must be followed by a comma when another branch comes
/// after it. As in a `match` arm, block-like expressions need none.
fn needs_comma(expr: &Expr) -> bool {
    !matches!(
        expr,
        Expr::Block(_)
            | Expr::Const(_)
            | Expr::ForLoop(_)
            | Expr::If(_)
            | Expr::Loop(_)
            | Expr::Match(_)
            | Expr::TryBlock(_)
            | Expr::Unsafe(_)
            | Expr::While(_)
    )
}

/// After a handler: the end of the input, a comma, or (after a block-like
/// handler) the next branch.
fn parse_branch_end(input: ParseStream<'_>, handler: &Expr, what: &str) -> syn::Result<()> {
    if input.is_empty() {
        return Ok(());
    }
    if input.peek(Token![,]) {
        input.parse::<Token![,]>()?;
        return Ok(());
    }
    if needs_comma(handler) {
        return Err(input.error(format!(
            "expected `,` after the {what} of a `select!` branch"
        )));
    }
    Ok(())
}

impl Parse for SelectInput {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let krate = parse_crate_path(input)?;
        let biased = peek_biased(input);
        if biased {
            input.parse::<Ident>()?;
            input.parse::<Token![;]>()?;
        }

        let mut branches = Vec::new();
        let mut else_branch = None;
        while !input.is_empty() {
            if input.peek(Token![else]) {
                let else_token: Token![else] = input.parse()?;
                if !input.peek(Token![=>]) {
                    return Err(input.error("expected `=>` after `else`: `else => <expression>`"));
                }
                input.parse::<Token![=>]>()?;
                let expr = Expr::parse_with_earlier_boundary_rule(input)?;
                parse_branch_end(input, &expr, "`else` expression")?;
                if !input.is_empty() {
                    return Err(syn::Error::new(
                        else_token.span,
                        "the `else` branch must be the last branch of `select!`",
                    ));
                }
                else_branch = Some(expr);
                break;
            }

            let pat = Pat::parse_multi_with_leading_vert(input)?;
            if !input.peek(Token![=]) || input.peek(Token![=>]) || input.peek(Token![==]) {
                return Err(input.error(
                    "expected `=` after the pattern of a `select!` branch: \
                     `<pattern> = <async expression> => <handler>`",
                ));
            }
            input.parse::<Token![=]>()?;
            let fut: Expr = input.parse()?;
            let cond = if input.peek(Token![,]) && input.peek2(Token![if]) {
                input.parse::<Token![,]>()?;
                input.parse::<Token![if]>()?;
                Some(input.parse::<Expr>()?)
            } else {
                None
            };
            if !input.peek(Token![=>]) {
                return Err(input.error(
                    "expected `=>` after the async expression of a `select!` branch \
                     (or `, if <precondition> =>`)",
                ));
            }
            input.parse::<Token![=>]>()?;
            let handler = Expr::parse_with_earlier_boundary_rule(input)?;
            parse_branch_end(input, &handler, "handler")?;
            branches.push(Branch {
                pat,
                fut,
                cond,
                handler,
            });
        }

        Ok(SelectInput {
            krate,
            biased,
            branches,
            else_branch,
        })
    }
}

/// Whether an identifier pattern without `ref`, `mut` or `@` names a
/// constant, a unit struct or a unit variant rather than a new binding.
/// Rust's conventions make these start with an upper-case letter.
fn names_a_constant(ident: &Ident) -> bool {
    ident
        .to_string()
        .trim_start_matches('_')
        .chars()
        .next()
        .is_some_and(char::is_uppercase)
}

/// Turns a branch's pattern into one that matches the same values but binds
/// nothing, so that the output of a completed future can be tested against
/// it without being moved.
fn binding_free(pat: &mut Pat) {
    match pat {
        Pat::Ident(ident) => {
            if let Some((_, sub)) = &mut ident.subpat {
                let mut sub = (**sub).clone();
                binding_free(&mut sub);
                *pat = sub;
            } else if ident.by_ref.is_some()
                || ident.mutability.is_some()
                || !names_a_constant(&ident.ident)
            {
                *pat = Pat::Wild(syn::PatWild {
                    attrs: Vec::new(),
                    underscore_token: Token![_](ident.ident.span()),
                });
            }
        }
        Pat::Or(or) => or.cases.iter_mut().for_each(binding_free),
        Pat::Paren(paren) => binding_free(&mut paren.pat),
        Pat::Reference(reference) => binding_free(&mut reference.pat),
        Pat::Slice(slice) => slice.elems.iter_mut().for_each(binding_free),
        Pat::Tuple(tuple) => tuple.elems.iter_mut().for_each(binding_free),
        Pat::TupleStruct(tuple) => tuple.elems.iter_mut().for_each(binding_free),
        Pat::Type(typed) => binding_free(&mut typed.pat),
        Pat::Struct(strukt) => {
            for field in &mut strukt.fields {
                if field.colon_token.is_none() {
                    field.colon_token = Some(Token![:](Span::call_site()));
                }
                binding_free(&mut field.pat);
            }
        }
        _ => {}
    }
}

/// Expands `select!`; the input is `$crate; <select! input>`.
pub(crate) fn select(input: TokenStream) -> TokenStream {
    match syn::parse2::<SelectInput>(input) {
        Ok(input) => expand_select(input),
        Err(error) => error.to_compile_error(),
    }
}

fn expand_select(input: SelectInput) -> TokenStream {
    let SelectInput {
        krate,
        biased,
        branches,
        else_branch,
    } = input;

    if branches.is_empty() {
        return match else_branch {
            Some(expr) => quote!({ #expr }),
            None => quote!(::core::compile_error!(
                "`select!` requires at least one branch"
            )),
        };
    }
    if branches.len() > MAX_BRANCHES {
        let extra = &branches[MAX_BRANCHES];
        return syn::Error::new_spanned(
            &extra.pat,
            format!("`select!` supports at most {MAX_BRANCHES} branches"),
        )
        .to_compile_error();
    }

    let ms = Span::mixed_site();
    let count = branches.len();
    let count_lit = Literal::u32_suffixed(count as u32);
    let all_disabled = Literal::u64_unsuffixed(u64::MAX >> (64 - count));
    let out = Ident::new("__SmpRtSelectOutput", ms);
    let variants: Vec<Ident> = (0..count)
        .map(|i| format_ident!("Branch{}", i, span = ms))
        .collect();
    let params: Vec<Ident> = (0..count)
        .map(|i| format_ident!("T{}", i, span = ms))
        .collect();
    let futs: Vec<Ident> = (0..count)
        .map(|i| format_ident!("__fut{}", i, span = ms))
        .collect();
    let bits: Vec<Literal> = (0..count)
        .map(|i| Literal::u64_unsuffixed(1 << i))
        .collect();
    let indices: Vec<Index> = (0..count).map(Index::from).collect();
    let branch_ids: Vec<Literal> = (0..count)
        .map(|i| Literal::u32_suffixed(i as u32))
        .collect();

    let preconditions = branches.iter().zip(&bits).filter_map(|(branch, bit)| {
        let cond = branch.cond.as_ref()?;
        Some(quote_spanned! {ms=>
            if !(#cond) {
                __disabled |= #bit;
            }
        })
    });

    let init_exprs = branches.iter().map(|branch| &branch.fut);
    let inits: Vec<Ident> = (0..count)
        .map(|i| format_ident!("__init{}", i, span = ms))
        .collect();
    let into_futures = inits.iter().map(|init| {
        quote_spanned! {ms=>
            #krate::__private::IntoFuture::into_future(#init)
        }
    });
    // The smallest unsigned integer with a bit per branch.
    let mask = Ident::new(
        match count {
            0..=8 => "u8",
            9..=16 => "u16",
            17..=32 => "u32",
            _ => "u64",
        },
        ms,
    );

    let polls = (0..count).map(|i| {
        let mut check = branches[i].pat.clone();
        binding_free(&mut check);
        let (id, bit, fut, variant, index) = (
            &branch_ids[i],
            &bits[i],
            &futs[i],
            &variants[i],
            &indices[i],
        );
        quote_spanned! {ms=>
            #id => {
                if __disabled & #bit != 0 {
                    continue;
                }
                // SAFETY: the futures live in the tuple behind `__futs`, a
                // local of the enclosing async body that nothing can name
                // but this reference, so they are neither moved nor dropped
                // before that body drops them in place; and the body is
                // pinned while it runs this poll.
                let #fut = unsafe {
                    #krate::__private::Pin::new_unchecked(&mut __futs.#index)
                };
                match #krate::__private::Future::poll(#fut, __cx) {
                    #krate::__private::Poll::Pending => __pending = true,
                    #krate::__private::Poll::Ready(__value) => {
                        __disabled |= #bit;
                        match __value {
                            #check => {
                                return #krate::__private::Poll::Ready(
                                    #out::#variant(__value),
                                );
                            }
                            #[allow(unreachable_patterns)]
                            _ => {}
                        }
                    }
                }
            }
        }
    });

    let (start, branch) = if count == 1 || biased {
        (quote!(), quote_spanned!(ms=> __i))
    } else {
        (
            quote_spanned! {ms=>
                let __start: u32 = #krate::__private::thread_rng_n(#count_lit);
            },
            quote_spanned!(ms=> (__start + __i) % #count_lit),
        )
    };

    let arms = branches.iter().zip(&variants).map(|(branch, variant)| {
        let pat = &branch.pat;
        let handler = &branch.handler;
        quote_spanned! {ms=>
            #out::#variant(#pat) => #handler,
        }
    });

    let else_expr = match else_branch {
        Some(expr) => quote!(#expr),
        None => quote_spanned! {ms=>
            ::core::panic!("all branches are disabled and there is no else branch")
        },
    };

    quote_spanned! {ms=>
        {
            enum #out<#(#params,)*> {
                #(#variants(#params),)*
                Disabled,
            }

            let mut __disabled: #mask = 0;
            #(#preconditions)*

            #[allow(unused_mut)]
            let mut __output = {
                // The expressions are evaluated first, on their own, so that
                // temporaries they borrow live as long as the `select!`.
                let __init = (#(#init_exprs,)*);
                // The futures stay in this one tuple, polled in place through
                // `__futs`; the closure owns only that reference and the
                // mask, so the `select!` takes little more room than its
                // futures.
                //
                // `__init` is moved as a whole, by the `match`, not field by
                // field: a partly moved tuple would keep its storage (and a
                // drop flag) in the enclosing future across the await.
                let mut __futs = match __init {
                    (#(#inits,)*) => (#(#into_futures,)*),
                };
                let __futs = &mut __futs;
                #krate::__private::poll_fn(move |__cx| {
                    if __disabled == #all_disabled {
                        return #krate::__private::Poll::Ready(#out::Disabled);
                    }
                    ::core::task::ready!(#krate::__private::poll_charge(__cx));
                    #start
                    let mut __pending = false;
                    for __i in 0..#count_lit {
                        match #branch {
                            #(#polls)*
                            _ => ::core::unreachable!(),
                        }
                    }
                    if __pending {
                        #krate::__private::Poll::Pending
                    } else {
                        #krate::__private::Poll::Ready(#out::Disabled)
                    }
                })
                .await
            };

            match __output {
                #(#arms)*
                #out::Disabled => #else_expr,
                #[allow(unreachable_patterns)]
                _ => ::core::unreachable!("a `select!` output did not match its pattern"),
            }
        }
    }
}

// ===== join! and try_join! =====

/// Which of the two joining macros is being expanded.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum JoinKind {
    Join,
    TryJoin,
}

/// The input of `join!` and `try_join!`.
struct JoinInput {
    krate: TokenTree,
    biased: bool,
    futures: Punctuated<Expr, Token![,]>,
}

impl Parse for JoinInput {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let krate = parse_crate_path(input)?;
        let biased = peek_biased(input);
        if biased {
            input.parse::<Ident>()?;
            input.parse::<Token![;]>()?;
        }
        let futures = Punctuated::parse_terminated(input)?;
        Ok(JoinInput {
            krate,
            biased,
            futures,
        })
    }
}

/// Expands `join!` or `try_join!`; the input is `$crate; <macro input>`.
pub(crate) fn join(kind: JoinKind, input: TokenStream) -> TokenStream {
    match syn::parse2::<JoinInput>(input) {
        Ok(input) => expand_join(kind, input),
        Err(error) => error.to_compile_error(),
    }
}

fn expand_join(kind: JoinKind, input: JoinInput) -> TokenStream {
    let JoinInput {
        krate,
        biased,
        futures,
    } = input;
    let ms = Span::mixed_site();

    if futures.is_empty() {
        return match kind {
            JoinKind::Join => quote_spanned!(ms=> ::core::future::ready(()).await),
            JoinKind::TryJoin => quote_spanned! {ms=>
                ::core::future::ready(::core::result::Result::Ok(())).await
            },
        };
    }

    let count = futures.len();
    let count_lit = Literal::u32_suffixed(count as u32);
    let futs: Vec<Ident> = (0..count)
        .map(|i| format_ident!("__fut{}", i, span = ms))
        .collect();
    let indices: Vec<Index> = (0..count).map(Index::from).collect();
    let init_exprs = futures.iter();
    let inits: Vec<Ident> = (0..count)
        .map(|i| format_ident!("__init{}", i, span = ms))
        .collect();
    let maybe_dones = inits.iter().map(|init| {
        quote_spanned! {ms=>
            #krate::__private::maybe_done(#init)
        }
    });
    // The future at `index` of the tuple behind `__futs`, pinned.
    let pinned = |index: &Index| {
        quote_spanned! {ms=>
            // SAFETY: the futures live in the tuple behind `__futs`, a local
            // of the enclosing async body that nothing can name but this
            // reference, so they are neither moved nor dropped before that
            // body drops them in place; and the body is pinned while it
            // runs this poll.
            unsafe { #krate::__private::Pin::new_unchecked(&mut __futs.#index) }
        }
    };

    let polls = futs
        .iter()
        .zip(&indices)
        .enumerate()
        .map(|(i, (fut, index))| {
            let id = Literal::u32_suffixed(i as u32);
            let pinned = pinned(index);
            match kind {
                JoinKind::Join => quote_spanned! {ms=>
                    #id => {
                        let #fut = #pinned;
                        if #krate::__private::Future::poll(#fut, __cx).is_pending() {
                            __pending = true;
                        }
                    }
                },
                JoinKind::TryJoin => quote_spanned! {ms=>
                    #id => {
                        let #fut = #pinned;
                        if let ::core::option::Option::Some(__err) =
                            #krate::__private::poll_try_join(#fut, __cx, &mut __pending)
                        {
                            return #krate::__private::Poll::Ready(__err);
                        }
                    }
                },
            }
        });

    let outputs = indices.iter().map(|index| {
        let pinned = pinned(index);
        match kind {
            JoinKind::Join => quote_spanned!(ms=> #krate::__private::take_output(#pinned)),
            JoinKind::TryJoin => quote_spanned!(ms=> #krate::__private::take_ok(#pinned)),
        }
    });
    let output = match kind {
        JoinKind::Join => quote_spanned!(ms=> (#(#outputs,)*)),
        JoinKind::TryJoin => quote_spanned! {ms=>
            ::core::result::Result::Ok((#(#outputs,)*))
        },
    };

    let (rotation, start, branch) = if count == 1 || biased {
        (quote!(), quote!(), quote_spanned!(ms=> __i))
    } else {
        (
            quote_spanned!(ms=> let mut __next: u32 = 0;),
            quote_spanned! {ms=>
                let __start = __next;
                __next = if __next + 1 == #count_lit { 0 } else { __next + 1 };
            },
            quote_spanned!(ms=> (__start + __i) % #count_lit),
        )
    };

    quote_spanned! {ms=>
        {
            // As in `select!`: the expressions first, then the futures in
            // one tuple polled in place through `__futs`, which the closure
            // owns with the rotation.
            // (`__init` is moved as a whole, see `select!`.)
            let __init = (#(#init_exprs,)*);
            let mut __futs = match __init {
                (#(#inits,)*) => (#(#maybe_dones,)*),
            };
            let __futs = &mut __futs;
            #rotation
            #krate::__private::poll_fn(move |__cx| {
                #start
                let mut __pending = false;
                for __i in 0..#count_lit {
                    match #branch {
                        #(#polls)*
                        _ => ::core::unreachable!(),
                    }
                }
                if __pending {
                    #krate::__private::Poll::Pending
                } else {
                    #krate::__private::Poll::Ready(#output)
                }
            })
            .await
        }
    }
}
