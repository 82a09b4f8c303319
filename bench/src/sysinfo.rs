//! What the report says about the machine: CPU model, cores, OS, compiler,
//! date; and the resident memory of this process.

use std::fs;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::runtimes;

/// The machine a report was measured on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SystemInfo {
    /// CPU model name, e.g. `"AMD EPYC 7B13"` or `"Neoverse-N1"`.
    pub cpu: String,
    /// CPUs this process may use.
    pub cores: usize,
    /// `std::env::consts::OS` and `ARCH`, with the kernel release when known.
    pub os: String,
    /// `rustc --version` of the compiler that built the runner, if known.
    pub rustc: Option<String>,
    /// Today's date (UTC), `YYYY-MM-DD`.
    pub date: String,
}

impl SystemInfo {
    /// Reads everything from this machine.
    pub fn collect() -> SystemInfo {
        let cpu = fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|text| cpu_model(&text))
            .unwrap_or_else(|| format!("unknown {} CPU", std::env::consts::ARCH));
        let kernel = fs::read_to_string("/proc/sys/kernel/osrelease").ok();
        let os = match kernel {
            Some(release) => format!(
                "{} {} ({})",
                std::env::consts::OS,
                std::env::consts::ARCH,
                release.trim()
            ),
            None => format!("{} {}", std::env::consts::OS, std::env::consts::ARCH),
        };
        let rustc = Some(env!("SMP_RT_BENCH_RUSTC_VERSION"))
            .filter(|v| !v.is_empty())
            .map(str::to_owned);
        SystemInfo {
            cpu,
            cores: runtimes::default_workers(),
            os,
            rustc,
            date: utc_date(SystemTime::now()),
        }
    }

    /// The header lines of a report, without decoration.
    pub fn lines(&self) -> Vec<String> {
        let mut lines = vec![
            format!("CPU: {} ({} cores available)", self.cpu, self.cores),
            format!("OS: {}", self.os),
        ];
        if let Some(rustc) = &self.rustc {
            lines.push(format!("Compiler: {rustc}"));
        }
        lines.push(format!("Date: {}", self.date));
        lines
    }
}

/// The CPU model named by a `/proc/cpuinfo` text.
///
/// On x86 that is the `model name` field. On ARM, where Linux reports only
/// `CPU implementer` and `CPU part`, the pair is mapped to a name with
/// [`arm_cpu_name`], or shown raw when unknown; a machine with several
/// kinds of core (big.LITTLE) gets each kind with its count. `None` when
/// the text names no CPU.
///
/// # Examples
///
/// ```
/// use smp_rt_bench::sysinfo::cpu_model;
///
/// let arm = "processor\t: 0\nCPU implementer\t: 0x41\nCPU part\t: 0xd0c\n";
/// assert_eq!(cpu_model(arm).as_deref(), Some("Neoverse-N1"));
/// let x86 = "processor\t: 0\nmodel name\t: AMD EPYC 7B13\n";
/// assert_eq!(cpu_model(x86).as_deref(), Some("AMD EPYC 7B13"));
/// ```
pub fn cpu_model(cpuinfo: &str) -> Option<String> {
    let mut models: Vec<(String, usize)> = Vec::new();
    let mut implementer: Option<u32> = None;
    let mut add = |name: String| match models.iter_mut().find(|(n, _)| *n == name) {
        Some((_, count)) => *count += 1,
        None => models.push((name, 1)),
    };
    let mut model_name: Option<String> = None;
    for line in cpuinfo.lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let (key, value) = (key.trim(), value.trim());
        match key {
            "model name" if !value.is_empty() => {
                model_name.get_or_insert_with(|| value.to_owned());
            }
            "CPU implementer" => implementer = parse_hex(value),
            "CPU part" => {
                if let (Some(imp), Some(part)) = (implementer, parse_hex(value)) {
                    add(arm_cpu_label(imp, part));
                }
            }
            _ => {}
        }
    }
    if models.is_empty() {
        return model_name;
    }
    if models.len() == 1 {
        return models.pop().map(|(name, _)| name);
    }
    let parts: Vec<String> = models
        .into_iter()
        .map(|(name, count)| format!("{count} x {name}"))
        .collect();
    Some(parts.join(" + "))
}

fn parse_hex(s: &str) -> Option<u32> {
    let digits = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X"))?;
    u32::from_str_radix(digits, 16).ok()
}

fn arm_cpu_label(implementer: u32, part: u32) -> String {
    match arm_cpu_name(implementer, part) {
        Some(name) => name.to_owned(),
        None => match arm_implementer_name(implementer) {
            Some(vendor) => format!("{vendor} CPU part {part:#05x}"),
            None => format!("CPU implementer {implementer:#04x} part {part:#05x}"),
        },
    }
}

/// The name of the ARM core with `MIDR` implementer and part numbers
/// `implementer` and `part`, when known.
///
/// # Examples
///
/// ```
/// use smp_rt_bench::sysinfo::arm_cpu_name;
///
/// assert_eq!(arm_cpu_name(0x41, 0xd4f), Some("Neoverse-V2"));
/// assert_eq!(arm_cpu_name(0xc0, 0xac3), Some("Ampere-1"));
/// assert_eq!(arm_cpu_name(0x61, 0x022), Some("Apple"));
/// assert_eq!(arm_cpu_name(0x41, 0xfff), None);
/// ```
pub fn arm_cpu_name(implementer: u32, part: u32) -> Option<&'static str> {
    let name = match (implementer, part) {
        (0x41, 0xd03) => "Cortex-A53",
        (0x41, 0xd04) => "Cortex-A35",
        (0x41, 0xd05) => "Cortex-A55",
        (0x41, 0xd07) => "Cortex-A57",
        (0x41, 0xd08) => "Cortex-A72",
        (0x41, 0xd09) => "Cortex-A73",
        (0x41, 0xd0a) => "Cortex-A75",
        (0x41, 0xd0b) => "Cortex-A76",
        (0x41, 0xd0c) => "Neoverse-N1",
        (0x41, 0xd0d) => "Cortex-A77",
        (0x41, 0xd40) => "Neoverse-V1",
        (0x41, 0xd41) => "Cortex-A78",
        (0x41, 0xd44) => "Cortex-X1",
        (0x41, 0xd46) => "Cortex-A510",
        (0x41, 0xd47) => "Cortex-A710",
        (0x41, 0xd48) => "Cortex-X2",
        (0x41, 0xd49) => "Neoverse-N2",
        (0x41, 0xd4a) => "Neoverse-E1",
        (0x41, 0xd4b) => "Cortex-A78C",
        (0x41, 0xd4d) => "Cortex-A715",
        (0x41, 0xd4e) => "Cortex-X3",
        (0x41, 0xd4f) => "Neoverse-V2",
        (0x41, 0xd80) => "Cortex-A520",
        (0x41, 0xd81) => "Cortex-A720",
        (0x41, 0xd82) => "Cortex-X4",
        (0x41, 0xd84) => "Neoverse-V3",
        (0x41, 0xd8e) => "Neoverse-N3",
        (0x43, 0x0af) => "ThunderX2",
        (0x46, 0x001) => "A64FX",
        (0x48, 0xd01) => "Kunpeng-920",
        (0x4e, 0x004) => "Carmel",
        (0x61, _) => "Apple",
        (0xc0, 0xac3) => "Ampere-1",
        (0xc0, 0xac4) => "Ampere-1a",
        _ => return None,
    };
    Some(name)
}

fn arm_implementer_name(implementer: u32) -> Option<&'static str> {
    Some(match implementer {
        0x41 => "Arm",
        0x42 => "Broadcom",
        0x43 => "Cavium",
        0x46 => "Fujitsu",
        0x48 => "HiSilicon",
        0x4e => "NVIDIA",
        0x50 => "APM",
        0x51 => "Qualcomm",
        0x61 => "Apple",
        0x6d => "Microsoft",
        0xc0 => "Ampere",
        _ => return None,
    })
}

/// This process's resident memory in bytes, from `/proc/self/statm`, or
/// `None` where that cannot be read.
pub fn resident_bytes() -> Option<u64> {
    let statm = fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * page_size())
}

/// The page size, from the auxiliary vector (`AT_PAGESZ`): 4 KiB on x86-64,
/// 4, 16 or 64 KiB on ARM64 depending on the kernel. 4096 when unknown.
pub fn page_size() -> u64 {
    fs::read("/proc/self/auxv")
        .ok()
        .and_then(|auxv| auxv_page_size(&auxv))
        .unwrap_or(4096)
}

/// `AT_PAGESZ` from the bytes of `/proc/self/auxv` (native-endian pairs of
/// machine words).
fn auxv_page_size(auxv: &[u8]) -> Option<u64> {
    const AT_NULL: u64 = 0;
    const AT_PAGESZ: u64 = 6;
    const WORD: usize = size_of::<usize>();
    let word = |chunk: &[u8]| -> u64 {
        let mut buf = [0u8; WORD];
        buf.copy_from_slice(chunk);
        usize::from_ne_bytes(buf) as u64
    };
    for pair in auxv.chunks_exact(2 * WORD) {
        let (key, value) = (word(&pair[..WORD]), word(&pair[WORD..]));
        match key {
            AT_PAGESZ if value > 0 => return Some(value),
            AT_NULL => return None,
            _ => {}
        }
    }
    None
}

/// The UTC calendar date of `time`, as `YYYY-MM-DD`.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use smp_rt_bench::sysinfo::utc_date;
///
/// assert_eq!(utc_date(UNIX_EPOCH), "1970-01-01");
/// assert_eq!(utc_date(UNIX_EPOCH + Duration::from_secs(951_782_400)), "2000-02-29");
/// ```
pub fn utc_date(time: SystemTime) -> String {
    let secs = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (y, m, d) = civil_from_days((secs / 86_400) as i64);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const GRAVITON2: &str = "\
processor\t: 0
BogoMIPS\t: 243.75
Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp ssbs
CPU implementer\t: 0x41
CPU architecture: 8
CPU variant\t: 0x3
CPU part\t: 0xd0c
CPU revision\t: 1

processor\t: 1
BogoMIPS\t: 243.75
Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp ssbs
CPU implementer\t: 0x41
CPU architecture: 8
CPU variant\t: 0x3
CPU part\t: 0xd0c
CPU revision\t: 1
";

    const X86: &str = "\
processor\t: 0
vendor_id\t: GenuineIntel
cpu family\t: 6
model\t\t: 106
model name\t: Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz
stepping\t: 6

processor\t: 1
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz
";

    #[test]
    fn cpu_model_on_arm_and_x86() {
        assert_eq!(cpu_model(GRAVITON2).as_deref(), Some("Neoverse-N1"));
        assert_eq!(
            cpu_model(X86).as_deref(),
            Some("Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz")
        );
        assert_eq!(cpu_model(""), None);
    }

    #[test]
    fn cpu_model_big_little_and_unknown_parts() {
        let mut text = String::new();
        for part in ["0xd05", "0xd05", "0xd0b"] {
            text.push_str(&format!(
                "processor : 0\nCPU implementer : 0x41\nCPU part : {part}\n\n"
            ));
        }
        assert_eq!(
            cpu_model(&text).as_deref(),
            Some("2 x Cortex-A55 + 1 x Cortex-A76")
        );
        let unknown = "CPU implementer : 0xc0\nCPU part : 0xfff\n";
        assert_eq!(cpu_model(unknown).as_deref(), Some("Ampere CPU part 0xfff"));
        let raw = "CPU implementer : 0x99\nCPU part : 0x012\n";
        assert_eq!(
            cpu_model(raw).as_deref(),
            Some("CPU implementer 0x99 part 0x012")
        );
        let apple = "CPU implementer : 0x61\nCPU part : 0x023\n";
        assert_eq!(cpu_model(apple).as_deref(), Some("Apple"));
    }

    #[test]
    fn page_size_from_auxv() {
        let mut auxv = Vec::new();
        for (k, v) in [(33usize, 0x7fff_0000usize), (6, 65_536), (0, 0)] {
            auxv.extend_from_slice(&k.to_ne_bytes());
            auxv.extend_from_slice(&v.to_ne_bytes());
        }
        assert_eq!(auxv_page_size(&auxv), Some(65_536));
        assert_eq!(auxv_page_size(&auxv[2 * size_of::<usize>()..][..0]), None);
        if cfg!(target_os = "linux") {
            let p = page_size();
            assert!(p.is_power_of_two() && p >= 4096, "{p}");
            assert!(resident_bytes().is_some_and(|b| b > 0));
        }
    }

    #[test]
    fn dates() {
        let day = |d: u64| utc_date(UNIX_EPOCH + Duration::from_secs(d * 86_400 + 3_600));
        assert_eq!(day(0), "1970-01-01");
        assert_eq!(day(59), "1970-03-01");
        assert_eq!(day(11_016), "2000-02-29");
        assert_eq!(day(19_783), "2024-03-01");
        assert_eq!(day(20_454), "2026-01-01");
    }
}
