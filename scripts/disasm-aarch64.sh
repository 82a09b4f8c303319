#!/usr/bin/env bash
# Prints the AArch64 machine code of smp_rt's queue fast paths, with counts
# of instructions, atomic instructions, barriers and calls, for three builds:
#   asm           the hand-written paths (LSE and LL/SC picked at run time)
#   asm+lse       the hand-written paths built with +lse,+rcpc (no run-time pick)
#   twins         the portable twins, Rust's default (outline atomics)
#   twins+lse     the portable twins with -C target-feature=+lse,+rcpc
# Then checks that the idle wait of both hand-written builds sleeps: an
# exclusive load (ldaxr/ldxr), a conditional branch out (cbnz, or cmp and
# b.ne), then the wfe that waits on the armed monitor; exits 1 if not.
# `--check` builds and checks the hand-written build only (no tables).
# Needs: rustup target add aarch64-unknown-linux-gnu; Debian's
# gcc-aarch64-linux-gnu (for aarch64-linux-gnu-objdump).
set -euo pipefail
cd "$(dirname "$0")/.."
target=aarch64-unknown-linux-gnu
routines=(ring_push ring_pop ring_steal inbox_push inbox_drain idle_wait)

build() { # name features rustflags
    local dir="${CARGO_TARGET_DIR:-target}/disasm-$1"
    RUSTFLAGS="$3" CARGO_TARGET_DIR="$dir" cargo build -q --release \
        -p smp_rt_executor --features "$2" --target "$target"
    echo "$dir/$target/release/libsmp_rt_executor.rlib"
}

report() { # name rlib
    local dump
    dump=$(aarch64-linux-gnu-objdump -d --no-show-raw-insn "$2" 2>/dev/null)
    printf '\n## %s\n' "$1"
    printf '%-12s %6s %8s %9s %6s\n' routine insns atomics barriers calls
    for r in "${routines[@]}"; do
        local body
        body=$(awk -v sym="<smp_rt_disasm_$r>:" '$2 == sym {on=1; next} on && /^$/ {exit} on' <<<"$dump")
        local insns atomics barriers calls
        insns=$(grep -cE '^\s+[0-9a-f]+:' <<<"$body" || true)
        atomics=$(grep -cE '\s(ld[a]?x[rp]|st[l]?x[rp]|cas[a-z]*|swp[a-z]*|ldadd[a-z]*|ldset[a-z]*|ldclr[a-z]*|ldapr[a-z]*|ldar[a-z]*|stlr[a-z]*)\s' <<<"$body" || true)
        barriers=$(grep -cE '\s(dmb|dsb|isb)\s' <<<"$body" || true)
        calls=$(grep -cE '\sbl\s' <<<"$body" || true)
        printf '%-12s %6s %8s %9s %6s\n' "$r" "$insns" "$atomics" "$barriers" "$calls"
        if [ "${VERBOSE:-0}" = 1 ]; then sed 's/^/    /' <<<"$body"; fi
    done
}

# The idle wait's mnemonics, one line, from an rlib.
idle_wait_mnemonics() { # rlib
    aarch64-linux-gnu-objdump -d --no-show-raw-insn "$1" 2>/dev/null \
        | awk '$2 == "<smp_rt_disasm_idle_wait>:" {on=1; next} on && /^$/ {exit} on {print $2}' \
        | tr '\n' ' '
}

check_idle_wait() { # name rlib
    if grep -qE '(^| )ld(a)?xr (cbnz|cmp b\.ne) wfe ' <<<"$(idle_wait_mnemonics "$2")"; then
        printf '%s: the idle wait sleeps in the wfe after its exclusive load\n' "$1"
    else
        printf '%s: no `ldaxr; cbnz; wfe` in smp_rt_disasm_idle_wait: its wfe does not wait\n' "$1"
        exit 1
    fi
}

if [ "${1:-}" = --check ]; then
    check_idle_wait asm "$(build asm disasm "")"
    exit 0
fi

report asm "$(build asm disasm "")"
report asm+lse "$(build asm-lse disasm "-C target-feature=+lse,+rcpc")"
report twins "$(build twins disasm,portable-twins "")"
report twins+lse "$(build twins-lse disasm,portable-twins "-C target-feature=+lse,+rcpc")"

printf '\n'
check_idle_wait asm "$(build asm disasm "")"
check_idle_wait asm+lse "$(build asm-lse disasm "-C target-feature=+lse,+rcpc")"
