//! Where the TSC's frequency comes from without timing it against the PIT
//! (which costs every cold boot ~6 ms): the hypervisor's timing leaf
//! `0x4000_0010` (under a KVM or VMware signature: QEMU with KVM fills it
//! when the TSC rate is known, `-cpu ...,invtsc=on` or `tsc-frequency=`),
//! then CPUID leaf `0x15` (the TSC/crystal ratio and the crystal's
//! frequency, Intel), then the daemon's measurement of the host's TSC on
//! the kernel command line (`kernel.tsc_khz=`: under TCG, and under KVM
//! without TSC scaling, the guest's TSC runs at the host's rate). `time`
//! falls back to the PIT when none of them answers.
//!
//! Pure decoding of CPUID values and of the option, unit-tested on the
//! host with made-up CPUID tables.

/// A CPUID instruction: (leaf, subleaf) -> (eax, ebx, ecx, edx).
pub type Cpuid<'a> = &'a dyn Fn(u32, u32) -> (u32, u32, u32, u32);

/// Where the frequency was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// The hypervisor's timing leaf `0x4000_0010`.
    HypervisorLeaf,
    /// CPUID leaf `0x15`.
    Cpuid15,
    /// `kernel.tsc_khz=` on the command line (the daemon's measurement).
    CommandLine,
}

/// A TSC frequency known without calibration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Known {
    /// TSC ticks per second.
    pub tsc_hz: u64,
    /// The LAPIC timer's input clock, when the source says it (the
    /// hypervisor leaf's APIC bus frequency).
    pub lapic_hz: Option<u64>,
    /// Where it came from.
    pub source: Source,
}

/// CPUID.1:ECX bit 31: running under a hypervisor.
const HYPERVISOR_PRESENT: u32 = 1 << 31;
/// The hypervisor leaves' base: (max leaf, signature in ebx, ecx, edx).
const HYPERVISOR_BASE: u32 = 0x4000_0000;
/// The timing leaf: TSC kHz in eax, APIC bus kHz in ebx.
const HYPERVISOR_TIMING: u32 = 0x4000_0010;
/// Signatures whose `0x4000_0010` is the timing leaf.
const TIMING_SIGNATURES: [&[u8; 12]; 2] = [b"KVMKVMKVM\0\0\0", b"VMwareVMware"];
/// TSC frequencies believed: 100 MHz to 100 GHz.
const PLAUSIBLE_HZ: core::ops::RangeInclusive<u64> = 100_000_000..=100_000_000_000;

/// The frequency the CPU states (hypervisor leaf, then leaf `0x15`).
pub fn from_cpu(cpuid: Cpuid<'_>) -> Option<Known> {
    hypervisor_leaf(cpuid).or_else(|| leaf_15h(cpuid))
}

/// The frequency `kernel.tsc_khz=KHZ` states, if plausible.
pub fn from_khz(khz: u64) -> Option<Known> {
    let tsc_hz = khz
        .checked_mul(1000)
        .filter(|hz| PLAUSIBLE_HZ.contains(hz))?;
    Some(Known {
        tsc_hz,
        lapic_hz: None,
        source: Source::CommandLine,
    })
}

fn hypervisor_leaf(cpuid: Cpuid<'_>) -> Option<Known> {
    if cpuid(1, 0).2 & HYPERVISOR_PRESENT == 0 {
        return None;
    }
    let (max, b, c, d) = cpuid(HYPERVISOR_BASE, 0);
    let mut sig = [0u8; 12];
    sig[..4].copy_from_slice(&b.to_le_bytes());
    sig[4..8].copy_from_slice(&c.to_le_bytes());
    sig[8..].copy_from_slice(&d.to_le_bytes());
    if !TIMING_SIGNATURES.contains(&&sig)
        || !(HYPERVISOR_TIMING..HYPERVISOR_BASE + 0x100).contains(&max)
    {
        return None;
    }
    let (tsc_khz, apic_khz, _, _) = cpuid(HYPERVISOR_TIMING, 0);
    let tsc_hz = u64::from(tsc_khz) * 1000;
    PLAUSIBLE_HZ.contains(&tsc_hz).then(|| Known {
        tsc_hz,
        lapic_hz: (apic_khz != 0).then(|| u64::from(apic_khz) * 1000),
        source: Source::HypervisorLeaf,
    })
}

fn leaf_15h(cpuid: Cpuid<'_>) -> Option<Known> {
    if cpuid(0, 0).0 < 0x15 {
        return None;
    }
    let (denominator, numerator, crystal_hz, _) = cpuid(0x15, 0);
    if denominator == 0 || numerator == 0 || crystal_hz == 0 {
        return None;
    }
    let tsc_hz = u64::from(crystal_hz) * u64::from(numerator) / u64::from(denominator);
    PLAUSIBLE_HZ.contains(&tsc_hz).then_some(Known {
        tsc_hz,
        lapic_hz: None,
        source: Source::Cpuid15,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    type Leaf = ((u32, u32), (u32, u32, u32, u32));

    fn cpu(leaves: &[Leaf]) -> impl Fn(u32, u32) -> (u32, u32, u32, u32) + '_ {
        move |leaf, sub| {
            leaves
                .iter()
                .find(|l| l.0 == (leaf, sub))
                .map_or((0, 0, 0, 0), |l| l.1)
        }
    }

    fn sig(s: &[u8; 12]) -> (u32, u32, u32) {
        let w = |i: usize| u32::from_le_bytes([s[i], s[i + 1], s[i + 2], s[i + 3]]);
        (w(0), w(4), w(8))
    }

    fn hypervisor(signature: &[u8; 12], max: u32, timing: (u32, u32)) -> Vec<Leaf> {
        let (b, c, d) = sig(signature);
        vec![
            ((0, 0), (0xd, 0, 0, 0)),
            ((1, 0), (0, 0, HYPERVISOR_PRESENT, 0)),
            ((HYPERVISOR_BASE, 0), (max, b, c, d)),
            ((HYPERVISOR_TIMING, 0), (timing.0, timing.1, 0, 0)),
        ]
    }

    #[test]
    fn kvm_timing_leaf_gives_tsc_and_apic_bus() {
        let leaves = hypervisor(b"KVMKVMKVM\0\0\0", 0x4000_0010, (2_592_000, 1_000_000));
        assert_eq!(
            from_cpu(&cpu(&leaves)),
            Some(Known {
                tsc_hz: 2_592_000_000,
                lapic_hz: Some(1_000_000_000),
                source: Source::HypervisorLeaf
            })
        );
        let vmware = hypervisor(b"VMwareVMware", 0x4000_0010, (3_000_000, 0));
        assert_eq!(
            from_cpu(&cpu(&vmware)),
            Some(Known {
                tsc_hz: 3_000_000_000,
                lapic_hz: None,
                source: Source::HypervisorLeaf
            })
        );
    }

    #[test]
    fn timing_leaf_is_ignored_without_its_signature_range_or_bit() {
        // Hyper-V's leaves are not KVM's: its 0x4000_0010 means something else.
        let hyperv = hypervisor(b"Microsoft Hv", 0x4000_0010, (2_592_000, 1_000_000));
        assert_eq!(from_cpu(&cpu(&hyperv)), None);
        // KVM without the leaf (QEMU without a known TSC rate).
        let short = hypervisor(b"KVMKVMKVM\0\0\0", 0x4000_0001, (2_592_000, 0));
        assert_eq!(from_cpu(&cpu(&short)), None);
        // Garbage where no hypervisor leaves exist (a CPU that repeats its
        // highest basic leaf).
        let garbage = hypervisor(b"KVMKVMKVM\0\0\0", 0xd, (2_592_000, 0));
        assert_eq!(from_cpu(&cpu(&garbage)), None);
        // No hypervisor bit.
        let mut bare = hypervisor(b"KVMKVMKVM\0\0\0", 0x4000_0010, (2_592_000, 0));
        bare[1].1 .2 = 0;
        assert_eq!(from_cpu(&cpu(&bare)), None);
        // A zero or absurd rate.
        let zero = hypervisor(b"KVMKVMKVM\0\0\0", 0x4000_0010, (0, 1_000_000));
        assert_eq!(from_cpu(&cpu(&zero)), None);
    }

    #[test]
    fn leaf_15h_is_crystal_times_ratio() {
        // Skylake-style: 24 MHz crystal, ratio 216/2 -> 2.592 GHz.
        let leaves = [
            ((0, 0), (0x16, 0, 0, 0)),
            ((0x15, 0), (2, 216, 24_000_000, 0)),
        ];
        assert_eq!(
            from_cpu(&cpu(&leaves)),
            Some(Known {
                tsc_hz: 2_592_000_000,
                lapic_hz: None,
                source: Source::Cpuid15
            })
        );
    }

    #[test]
    fn leaf_15h_without_crystal_or_below_max_leaf_says_nothing() {
        // The crystal frequency left 0 (many client CPUs).
        let no_crystal = [((0, 0), (0x16, 0, 0, 0)), ((0x15, 0), (2, 216, 0, 0))];
        assert_eq!(from_cpu(&cpu(&no_crystal)), None);
        // Max basic leaf 0xd: leaf 0x15 is not there, whatever it reads.
        let low = [
            ((0, 0), (0xd, 0, 0, 0)),
            ((0x15, 0), (2, 216, 24_000_000, 0)),
        ];
        assert_eq!(from_cpu(&cpu(&low)), None);
        // A zero denominator.
        let zero = [
            ((0, 0), (0x15, 0, 0, 0)),
            ((0x15, 0), (0, 216, 24_000_000, 0)),
        ];
        assert_eq!(from_cpu(&cpu(&zero)), None);
    }

    #[test]
    fn hypervisor_leaf_wins_over_leaf_15h() {
        // Under KVM with TSC scaling, leaf 0x15 is the host's while the
        // timing leaf has the guest's rate.
        let mut leaves = hypervisor(b"KVMKVMKVM\0\0\0", 0x4000_0010, (1_000_000, 0));
        leaves[0].1 .0 = 0x16;
        leaves.push(((0x15, 0), (2, 216, 24_000_000, 0)));
        assert_eq!(
            from_cpu(&cpu(&leaves)).map(|k| k.tsc_hz),
            Some(1_000_000_000)
        );
    }

    #[test]
    fn command_line_khz_is_checked() {
        assert_eq!(
            from_khz(2_592_000),
            Some(Known {
                tsc_hz: 2_592_000_000,
                lapic_hz: None,
                source: Source::CommandLine
            })
        );
        assert_eq!(from_khz(0), None);
        assert_eq!(from_khz(99), None);
        assert_eq!(from_khz(u64::MAX), None);
    }
}
