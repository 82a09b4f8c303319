//! Turns an `async fn` into a sync fn that runs its body on a fresh runtime.

use proc_macro2::{Delimiter, Group, Literal, Span, TokenStream, TokenTree};
use quote::{ToTokens, quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::{Attribute, Signature, Visibility};

use crate::args::{self, Config, Errors, Flavor};

/// Which attribute is being expanded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `#[smp_rt::main]`
    Main,
    /// `#[smp_rt::test]`
    Test,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Self::Main => "main",
            Self::Test => "test",
        }
    }
}

/// A function whose body is kept as raw tokens.
///
/// The body is not parsed, so the expansion still happens (and the rest of
/// the crate still type-checks) while the body has a syntax error in it, and
/// the body's tokens keep their spans.
struct Function {
    attrs: Vec<Attribute>,
    vis: Visibility,
    sig: Signature,
    body: Group,
}

impl Parse for Function {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis = input.parse()?;
        let sig = input.parse()?;
        let body = match input.parse::<TokenTree>()? {
            TokenTree::Group(group) if group.delimiter() == Delimiter::Brace => group,
            other => return Err(syn::Error::new_spanned(other, "expected a function body")),
        };
        if !input.is_empty() {
            return Err(input.error("unexpected tokens after the function body"));
        }
        Ok(Self {
            attrs,
            vis,
            sig,
            body,
        })
    }
}

/// Expands `#[smp_rt::main(args)]` or `#[smp_rt::test(args)]` applied to `item`.
pub(crate) fn expand(kind: Kind, args: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let config = args::parse(kind.name(), args, &mut errors);

    let mut function = match syn::parse2::<Function>(item.clone()) {
        Ok(function) => function,
        Err(error) => {
            let error = match syn::parse2::<syn::Item>(item.clone()) {
                Ok(syn::Item::Fn(_)) | Err(_) => error,
                Ok(other) => syn::Error::new_spanned(
                    other,
                    format!(
                        "`#[smp_rt::{}]` can only be applied to an `async fn`",
                        kind.name()
                    ),
                ),
            };
            errors.push(error);
            let errors = errors.into_result().err().map(|e| e.to_compile_error());
            return quote!(#errors #item);
        }
    };

    check(kind, &mut function, &mut errors);
    let expanded = generate(kind, &config, function);
    match errors.into_result() {
        Ok(()) => expanded,
        Err(error) => {
            let error = error.to_compile_error();
            quote!(#error #expanded)
        }
    }
}

/// Reports misuse that can be seen from the function's declaration.
fn check(kind: Kind, function: &mut Function, errors: &mut Errors) {
    let sig = &function.sig;
    let attr = format!("#[smp_rt::{}]", kind.name());

    if sig.asyncness.is_none() {
        errors.push(syn::Error::new_spanned(
            sig.fn_token,
            format!(
                "the `async` keyword is missing from the function declaration; `{attr}` runs \
                 the body of an `async fn` on a new runtime, so write `async fn {}()`",
                sig.ident
            ),
        ));
    }

    if !sig.inputs.is_empty() {
        let message = match kind {
            Kind::Main => format!(
                "a `{attr}` function cannot take parameters; remove them (read command-line \
                 arguments with `std::env::args()` instead)"
            ),
            Kind::Test => format!(
                "a `{attr}` function cannot take parameters, because the test harness calls \
                 it with none; remove them"
            ),
        };
        errors.push(syn::Error::new_spanned(&sig.inputs, message));
    }

    if kind == Kind::Test {
        let extra_test = function.attrs.iter().position(|attribute| {
            attribute
                .path()
                .segments
                .last()
                .is_some_and(|segment| segment.ident == "test")
        });
        if let Some(index) = extra_test {
            let attribute = function.attrs.remove(index);
            errors.push(syn::Error::new_spanned(
                attribute,
                format!(
                    "a second test attribute is present; `{attr}` already marks the function \
                     as a test, so remove this one"
                ),
            ));
        }
    }
}

fn generate(kind: Kind, config: &Config, function: Function) -> TokenStream {
    let Function {
        attrs,
        vis,
        mut sig,
        body,
    } = function;
    sig.asyncness = None;

    let constructor = match config.flavor {
        Flavor::MultiThread => quote!(new_multi_thread),
        Flavor::CurrentThread | Flavor::Local => quote!(new_current_thread),
    };
    let finish = match config.flavor {
        Flavor::Local => quote!(.build_local(::smp_rt::runtime::LocalOptions::default())),
        Flavor::MultiThread | Flavor::CurrentThread => quote!(.build()),
    };
    let worker_threads = config.worker_threads.as_ref().map(|workers| {
        let mut value = Literal::usize_unsuffixed(workers.value);
        value.set_span(workers.span);
        quote_spanned!(workers.span=> .worker_threads(#value))
    });
    let reductions = config.reductions.as_ref().map(|reductions| {
        let mut value = Literal::u32_unsuffixed(reductions.value);
        value.set_span(reductions.span);
        quote_spanned!(reductions.span=> .reductions(#value))
    });
    let start_paused = config.start_paused.as_ref().map(|start_paused| {
        let value = syn::LitBool::new(start_paused.value, start_paused.span);
        quote_spanned!(start_paused.span=> .start_paused(#value))
    });
    let name = config
        .name
        .as_ref()
        .map(|name| quote_spanned!(name.span()=> .name(#name)));
    let test_attr = (kind == Kind::Test).then(|| quote!(#[::core::prelude::v1::test]));

    let runtime = syn::Ident::new("__smp_rt_runtime", Span::mixed_site());
    let build = quote! {
        #[allow(clippy::expect_used)]
        let #runtime = ::smp_rt::runtime::Builder::#constructor()
            #worker_threads
            #reductions
            #start_paused
            #name
            .enable_all()
            #finish
            .expect("failed to build the smp_rt runtime");
    };
    let inner = if can_nest(&sig, &body) {
        // The body becomes the body of a nested `async fn` with the same
        // return type, so `return`, `?` and coercions to the declared type
        // behave exactly as in the original function.
        let body_fn = syn::Ident::new("__smp_rt_body", Span::mixed_site());
        let output = &sig.output;
        quote! {
            async fn #body_fn() #output #body
            #build
            #runtime.block_on(#body_fn())
        }
    } else {
        // Parameters, generics and `Self` are not visible from a nested item,
        // so the body runs as an async block instead; its output is inferred
        // from the function's return type.
        let future = syn::Ident::new("__smp_rt_body", Span::mixed_site());
        let block_on = quote_spanned!(body.span()=> #runtime.block_on(#future));
        quote! {
            let #future = async move #body;
            #build
            #block_on
        }
    };

    let mut output = TokenStream::new();
    test_attr.to_tokens(&mut output);
    for attribute in &attrs {
        attribute.to_tokens(&mut output);
    }
    vis.to_tokens(&mut output);
    sig.to_tokens(&mut output);
    Group::new(Delimiter::Brace, inner).to_tokens(&mut output);
    output
}

/// Whether the body can be moved into a nested `async fn`: that needs a
/// function without parameters, generics or `unsafe` whose signature and body
/// do not refer to `Self`.
fn can_nest(sig: &Signature, body: &Group) -> bool {
    sig.inputs.is_empty()
        && sig.variadic.is_none()
        && sig.unsafety.is_none()
        && sig.generics.params.is_empty()
        && sig.generics.where_clause.is_none()
        && !mentions_self(sig.output.to_token_stream())
        && !mentions_self(body.stream())
}

fn mentions_self(tokens: TokenStream) -> bool {
    tokens.into_iter().any(|token| match token {
        TokenTree::Ident(ident) => ident == "Self",
        TokenTree::Group(group) => mentions_self(group.stream()),
        TokenTree::Punct(_) | TokenTree::Literal(_) => false,
    })
}
