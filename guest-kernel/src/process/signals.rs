//! Signal state of the one process: dispositions, the blocked mask, what is
//! pending, the alternate stack; and the frame a handler runs on. Pure
//! logic, unit-tested on the host; `process::deliver` writes the frames
//! into user memory.
//!
//! Primer (POSIX, as Linux does it). A signal is *generated* (by `kill`,
//! by a CPU fault, by the device's `SIGNAL` event, by `EPIPE`), becomes
//! *pending*, and is *delivered* on the way back to user mode once it is
//! not blocked: ignored, handled by calling the program's handler on a
//! frame pushed on its stack, or acted on by default (end the process,
//! or nothing). Standard signals do not queue: one pending bit each. A
//! handler returns through its `sa_restorer`, which calls `rt_sigreturn`
//! to restore the saved context and mask.

use core::fmt;

use crate::arch::x86_64::frame::{TrapFrame, FX_SIZE, RFLAGS_USER_MASK, USER_CS, USER_DS};
use crate::linux::sig::*;
use crate::linux::{
    Errno, KernelSigaction, RtSigframe, Sigcontext, Siginfo, StackT, Ucontext, UC_SIGCONTEXT_SS,
    UC_STRICT_RESTORE_SS,
};

/// Bytes below the interrupted `rsp` left alone: the psABI's red zone.
pub const RED_ZONE: u64 = 128;
/// Signals that cannot be caught, blocked or ignored.
pub const UNBLOCKABLE: u64 = bit(SIGKILL) | bit(SIGSTOP);

/// What a signal does when its disposition is `SIG_DFL`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DefaultAction {
    /// End the process.
    Terminate,
    /// End the process (Linux would also dump core).
    CoreDump,
    /// Nothing.
    Ignore,
    /// Stop the process (the device's `STOP`) until it is continued.
    Stop,
    /// Continue a stopped process: nothing here.
    Continue,
}

/// The default action of `signo` (`signal(7)`).
pub fn default_action(signo: u32) -> DefaultAction {
    match signo {
        SIGCHLD | SIGURG | SIGWINCH => DefaultAction::Ignore,
        SIGCONT => DefaultAction::Continue,
        SIGSTOP | SIGTSTP | SIGTTIN | SIGTTOU => DefaultAction::Stop,
        SIGQUIT | SIGILL | SIGTRAP | SIGABRT | SIGBUS | SIGFPE | SIGSEGV | SIGXCPU | SIGXFSZ
        | SIGSYS => DefaultAction::CoreDump,
        _ => DefaultAction::Terminate,
    }
}

/// What delivering a signal comes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// Call the handler with this action (already applied to the mask).
    Handle(KernelSigaction),
    /// End the process, killed by the signal.
    Terminate,
    /// Stop the process until it is continued.
    Stop,
    /// Nothing to do.
    Discard,
}

/// The signal state (one process, one thread).
#[derive(Clone)]
pub struct SignalState {
    actions: [KernelSigaction; NSIG as usize],
    /// Blocked signals.
    pub mask: u64,
    pending: u64,
    infos: [Siginfo; NSIG as usize],
    /// The alternate signal stack (`sigaltstack`).
    pub altstack: StackT,
    /// The mask to restore once a signal has been handled, set by the
    /// calls that wait with a mask of their own (`rt_sigsuspend`,
    /// `ppoll`, `pselect6`): the handler's frame saves it, and without a
    /// handler it comes back at once (Linux's `saved_sigmask`).
    pub saved_mask: Option<u64>,
}

impl fmt::Debug for SignalState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignalState")
            .field("mask", &format_args!("{:#x}", self.mask))
            .field("pending", &format_args!("{:#x}", self.pending))
            .finish()
    }
}

impl Default for SignalState {
    fn default() -> Self {
        Self {
            actions: [KernelSigaction::default(); NSIG as usize],
            mask: 0,
            pending: 0,
            infos: [Siginfo::default(); NSIG as usize],
            altstack: StackT {
                ss_flags: SS_DISABLE,
                ..StackT::default()
            },
            saved_mask: None,
        }
    }
}

fn index(signo: u32) -> Result<usize, Errno> {
    if valid(signo) {
        Ok(signo as usize - 1)
    } else {
        Err(Errno::EINVAL)
    }
}

impl SignalState {
    /// The action of `signo`.
    pub fn action(&self, signo: u32) -> Option<KernelSigaction> {
        index(signo).ok().map(|i| self.actions[i])
    }

    /// `rt_sigaction`: sets the action of `signo` if `new` is given and
    /// returns the old one. Setting an action that ignores the signal
    /// discards it if pending (POSIX).
    pub fn sigaction(
        &mut self,
        signo: u32,
        new: Option<KernelSigaction>,
    ) -> Result<KernelSigaction, Errno> {
        let i = index(signo)?;
        let old = self.actions[i];
        if let Some(mut act) = new {
            if signo == SIGKILL || signo == SIGSTOP {
                return Err(Errno::EINVAL);
            }
            act.mask &= !UNBLOCKABLE;
            self.actions[i] = act;
            if self.ignores(signo) {
                self.pending &= !bit(signo);
            }
        }
        Ok(old)
    }

    /// `rt_sigprocmask`: applies `how` with `set` if given; returns the
    /// old mask. `SIGKILL` and `SIGSTOP` are never blocked.
    pub fn sigprocmask(&mut self, how: u64, set: Option<u64>) -> Result<u64, Errno> {
        let old = self.mask;
        if let Some(set) = set {
            self.mask = match how {
                SIG_BLOCK => old | set,
                SIG_UNBLOCK => old & !set,
                SIG_SETMASK => set,
                _ => return Err(Errno::EINVAL),
            } & !UNBLOCKABLE;
        }
        Ok(old)
    }

    /// Whether `signo` would be thrown away at once: ignored, explicitly
    /// or by default, and not blocked (a blocked signal stays pending,
    /// since its handler may change before it is unblocked).
    pub fn ignores(&self, signo: u32) -> bool {
        let Ok(i) = index(signo) else { return true };
        if self.mask & bit(signo) != 0 {
            return false;
        }
        match self.actions[i].handler {
            SIG_IGN => true,
            SIG_DFL => matches!(
                default_action(signo),
                DefaultAction::Ignore | DefaultAction::Continue
            ),
            _ => false,
        }
    }

    /// Generates `signo` with `info`.
    pub fn raise(&mut self, signo: u32, info: Siginfo) {
        let Ok(i) = index(signo) else { return };
        // SIGCONT discards pending stop signals, a stop signal a pending
        // SIGCONT (POSIX), whatever their dispositions.
        const STOPS: u64 = bit(SIGSTOP) | bit(SIGTSTP) | bit(SIGTTIN) | bit(SIGTTOU);
        if signo == SIGCONT {
            self.pending &= !STOPS;
        } else if STOPS & bit(signo) != 0 {
            self.pending &= !bit(SIGCONT);
        }
        if self.ignores(signo) {
            return;
        }
        if self.pending & bit(signo) == 0 {
            self.infos[i] = info;
        }
        self.pending |= bit(signo);
    }

    /// Generates a signal for a CPU fault: delivered even if blocked or
    /// ignored, by resetting it to the default action then (Linux's
    /// `force_sig_info`), since returning to the faulting instruction
    /// would only fault again.
    pub fn force(&mut self, signo: u32, info: Siginfo) {
        let Ok(i) = index(signo) else { return };
        let blocked = self.mask & bit(signo) != 0;
        if blocked || self.actions[i].handler == SIG_IGN {
            self.actions[i].handler = SIG_DFL;
            self.mask &= !bit(signo);
        }
        self.infos[i] = info;
        self.pending |= bit(signo);
    }

    /// Forgets every pending signal (a fork child starts with none).
    pub fn clear_pending(&mut self) {
        self.pending = 0;
    }

    /// Resets every handled signal to its default action, keeping ignored
    /// ones ignored (`execve`, `CLONE_CLEAR_SIGHAND`). A pending signal
    /// whose default is to ignore it is discarded.
    pub fn reset_handlers(&mut self) {
        for signo in 1..=NSIG {
            let i = signo as usize - 1;
            if self.actions[i].handler != SIG_IGN {
                self.actions[i] = KernelSigaction::default();
            }
            if self.ignores(signo) {
                self.pending &= !bit(signo);
            }
        }
    }

    /// Takes the lowest pending signal of `set`, blocked or not, without
    /// delivering it (`rt_sigtimedwait`).
    pub fn take_pending(&mut self, set: u64) -> Option<(u32, Siginfo)> {
        let ready = self.pending & set;
        if ready == 0 {
            return None;
        }
        let signo = ready.trailing_zeros() + 1;
        self.pending &= !bit(signo);
        Some((signo, self.infos[signo as usize - 1]))
    }

    /// Pending signals.
    pub fn pending(&self) -> u64 {
        self.pending
    }

    /// Whether a signal is pending and not blocked.
    pub fn has_deliverable(&self) -> bool {
        self.pending & !self.mask != 0
    }

    /// Takes the next deliverable signal (lowest number first; the CPU's
    /// synchronous faults are numbered low anyway) and decides what it
    /// does. For a handler, the mask and the action are updated as the
    /// delivery requires (`sa_mask`, `SA_NODEFER`, `SA_RESETHAND`).
    pub fn take_next(&mut self) -> Option<(u32, Siginfo, Delivery)> {
        let ready = self.pending & !self.mask;
        if ready == 0 {
            return None;
        }
        let signo = ready.trailing_zeros() + 1;
        let i = signo as usize - 1;
        self.pending &= !bit(signo);
        let info = self.infos[i];
        let act = self.actions[i];
        let d = match act.handler {
            SIG_IGN => Delivery::Discard,
            SIG_DFL => match default_action(signo) {
                DefaultAction::Terminate | DefaultAction::CoreDump => Delivery::Terminate,
                DefaultAction::Stop => Delivery::Stop,
                _ => Delivery::Discard,
            },
            _ => {
                self.mask |= act.mask;
                if act.flags & SA_NODEFER == 0 {
                    self.mask |= bit(signo);
                }
                self.mask &= !UNBLOCKABLE;
                if act.flags & SA_RESETHAND != 0 {
                    self.actions[i].handler = SIG_DFL;
                    self.actions[i].flags &= !SA_SIGINFO;
                }
                Delivery::Handle(act)
            }
        };
        Some((signo, info, d))
    }

    /// Whether `sp` is on the alternate stack.
    pub fn on_altstack(&self, sp: u64) -> bool {
        let s = &self.altstack;
        s.ss_flags & SS_DISABLE == 0 && sp > s.ss_sp && sp - s.ss_sp <= s.ss_size
    }

    /// `sigaltstack`: sets the alternate stack if `new` is given (refused
    /// while running on it); returns the old setting as `sigaltstack`
    /// reports it for a program whose stack pointer is `sp`.
    pub fn sigaltstack(&mut self, new: Option<StackT>, sp: u64) -> Result<StackT, Errno> {
        let on = self.on_altstack(sp);
        let mut old = self.altstack;
        if on {
            old.ss_flags |= SS_ONSTACK;
        }
        if let Some(n) = new {
            if on {
                return Err(Errno::EPERM);
            }
            let flags = n.ss_flags & !SS_AUTODISARM;
            if flags != 0 && flags != SS_DISABLE {
                return Err(Errno::EINVAL);
            }
            if flags == SS_DISABLE {
                self.altstack = StackT {
                    ss_flags: SS_DISABLE,
                    ..StackT::default()
                };
            } else {
                if n.ss_size < MINSIGSTKSZ {
                    return Err(Errno::ENOMEM);
                }
                self.altstack = StackT {
                    ss_flags: n.ss_flags & SS_AUTODISARM,
                    ..n
                };
            }
        }
        Ok(old)
    }
}

/// Where a handler's frame goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameLayout {
    /// `rsp` at the handler's first instruction: the `rt_sigframe`.
    pub frame: u64,
    /// The FPU image (64-byte aligned, above the frame).
    pub fpstate: u64,
}

/// Places a signal frame as Linux's `get_sigframe` does: below the red
/// zone of the interrupted stack, or at the top of the alternate stack
/// for an `SA_ONSTACK` handler not already running on it; the FPU image
/// 64-byte aligned; the frame so that `rsp + 8` is 16-aligned, as after a
/// `call`.
pub fn frame_layout(state: &SignalState, act: &KernelSigaction, user_rsp: u64) -> FrameLayout {
    let mut sp = user_rsp.wrapping_sub(RED_ZONE);
    if act.flags & SA_ONSTACK != 0
        && state.altstack.ss_flags & SS_DISABLE == 0
        && !state.on_altstack(user_rsp)
    {
        sp = state.altstack.ss_sp.wrapping_add(state.altstack.ss_size);
    }
    let fpstate = sp.wrapping_sub(FX_SIZE as u64) & !63;
    let frame =
        (fpstate.wrapping_sub(core::mem::size_of::<RtSigframe>() as u64) & !15).wrapping_sub(8);
    FrameLayout { frame, fpstate }
}

/// The machine context of `f`, as `uc_mcontext` holds it.
pub fn sigcontext(f: &TrapFrame, oldmask: u64, fpstate: u64, cr2: u64) -> Sigcontext {
    let fault = f.vector < 32;
    Sigcontext {
        r8: f.r8,
        r9: f.r9,
        r10: f.r10,
        r11: f.r11,
        r12: f.r12,
        r13: f.r13,
        r14: f.r14,
        r15: f.r15,
        rdi: f.rdi,
        rsi: f.rsi,
        rbp: f.rbp,
        rbx: f.rbx,
        rdx: f.rdx,
        rax: f.rax,
        rcx: f.rcx,
        rsp: f.rsp,
        rip: f.rip,
        eflags: f.rflags,
        cs: USER_CS as u16,
        gs: 0,
        fs: 0,
        ss: USER_DS as u16,
        err: if fault { f.error } else { 0 },
        trapno: if fault { f.vector } else { 0 },
        oldmask,
        cr2,
        fpstate,
        reserved1: [0; 8],
    }
}

/// The frame for a handler of `signo` interrupting `f`.
pub fn build_frame(
    state: &SignalState,
    f: &TrapFrame,
    act: &KernelSigaction,
    info: Siginfo,
    oldmask: u64,
    layout: &FrameLayout,
    cr2: u64,
) -> RtSigframe {
    let mut stack = state.altstack;
    if state.on_altstack(f.rsp) {
        stack.ss_flags |= SS_ONSTACK;
    }
    RtSigframe {
        pretcode: act.restorer,
        uc: Ucontext {
            uc_flags: UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS,
            uc_link: 0,
            uc_stack: stack,
            uc_mcontext: sigcontext(f, oldmask, layout.fpstate, cr2),
            uc_sigmask: oldmask,
        },
        info,
    }
}

/// Points `f` at the handler: `rdi` = signo, `rsi` = `&info`, `rdx` =
/// `&uc`, `rsp` = the frame (whose first word is the return address),
/// `rax` = 0 (no vector registers used for varargs), DF and TF clear.
pub fn enter_handler(f: &mut TrapFrame, signo: u32, act: &KernelSigaction, layout: &FrameLayout) {
    f.rdi = u64::from(signo);
    f.rsi = layout.frame + core::mem::offset_of!(RtSigframe, info) as u64;
    f.rdx = layout.frame + core::mem::offset_of!(RtSigframe, uc) as u64;
    f.rax = 0;
    f.rsp = layout.frame;
    f.rip = act.handler;
    f.rflags &= !((1 << 10) | (1 << 8) | (1 << 16));
    f.cs = USER_CS;
    f.ss = USER_DS;
}

/// `rt_sigreturn`: restores the registers of `sc` into `f`. Only the
/// RFLAGS bits a program may change are taken; `cs`/`ss` stay user ones.
pub fn restore_context(f: &mut TrapFrame, sc: &Sigcontext) {
    f.r8 = sc.r8;
    f.r9 = sc.r9;
    f.r10 = sc.r10;
    f.r11 = sc.r11;
    f.r12 = sc.r12;
    f.r13 = sc.r13;
    f.r14 = sc.r14;
    f.r15 = sc.r15;
    f.rdi = sc.rdi;
    f.rsi = sc.rsi;
    f.rbp = sc.rbp;
    f.rbx = sc.rbx;
    f.rdx = sc.rdx;
    f.rax = sc.rax;
    f.rcx = sc.rcx;
    f.rsp = sc.rsp;
    f.rip = sc.rip;
    f.rflags = (f.rflags & !RFLAGS_USER_MASK) | (sc.eflags & RFLAGS_USER_MASK);
    f.cs = USER_CS;
    f.ss = USER_DS;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn handler(h: u64, flags: u64, mask: u64) -> KernelSigaction {
        KernelSigaction {
            handler: h,
            flags: flags | SA_RESTORER,
            restorer: 0x40_1234,
            mask,
        }
    }

    const HANDLER: u64 = 0x40_2000;

    #[test]
    fn default_actions_follow_signal_7() {
        assert_eq!(default_action(SIGSEGV), DefaultAction::CoreDump);
        assert_eq!(default_action(SIGTERM), DefaultAction::Terminate);
        assert_eq!(default_action(SIGPIPE), DefaultAction::Terminate);
        assert_eq!(default_action(SIGCHLD), DefaultAction::Ignore);
        assert_eq!(default_action(SIGTSTP), DefaultAction::Stop);
        assert_eq!(default_action(40), DefaultAction::Terminate);
    }

    #[test]
    fn sigkill_and_sigstop_cannot_be_caught_or_blocked() {
        let mut s = SignalState::default();
        assert_eq!(
            s.sigaction(SIGKILL, Some(handler(HANDLER, 0, 0))),
            Err(Errno::EINVAL)
        );
        assert!(s.sigaction(SIGKILL, None).is_ok());
        s.sigprocmask(SIG_SETMASK, Some(u64::MAX)).unwrap();
        assert_eq!(s.mask & UNBLOCKABLE, 0);
    }

    #[test]
    fn bad_signal_numbers_and_how_values_are_refused() {
        let mut s = SignalState::default();
        assert_eq!(s.sigaction(0, None), Err(Errno::EINVAL));
        assert_eq!(s.sigaction(65, None), Err(Errno::EINVAL));
        assert_eq!(s.sigprocmask(7, Some(0)), Err(Errno::EINVAL));
    }

    #[test]
    fn reset_handlers_keeps_ignored_signals_ignored_and_the_mask() {
        let mut s = SignalState::default();
        s.sigaction(SIGUSR1, Some(handler(HANDLER, SA_SIGINFO, 0)))
            .unwrap();
        s.sigaction(SIGINT, Some(handler(SIG_IGN, 0, 0))).unwrap();
        s.sigaction(SIGCHLD, Some(handler(HANDLER, 0, 0))).unwrap();
        s.sigprocmask(SIG_BLOCK, Some(bit(SIGUSR2))).unwrap();
        s.raise(SIGCHLD, Siginfo::default());
        s.raise(SIGUSR2, Siginfo::default());
        s.reset_handlers();
        assert_eq!(s.action(SIGUSR1).unwrap().handler, SIG_DFL);
        assert_eq!(s.action(SIGUSR1).unwrap().flags, 0);
        assert_eq!(s.action(SIGINT).unwrap().handler, SIG_IGN);
        assert_eq!(s.mask, bit(SIGUSR2));
        assert_eq!(s.pending(), bit(SIGUSR2), "SIGCHLD is now ignored");
    }

    #[test]
    fn a_default_stop_signal_stops_and_sigcont_discards_pending_stops() {
        let mut s = SignalState::default();
        s.raise(SIGTSTP, Siginfo::default());
        assert_eq!(
            s.take_next().map(|(n, _, d)| (n, d)),
            Some((SIGTSTP, Delivery::Stop))
        );
        s.sigprocmask(SIG_BLOCK, Some(bit(SIGTTIN))).unwrap();
        s.raise(SIGTTIN, Siginfo::default());
        s.raise(SIGCONT, Siginfo::default());
        assert_eq!(
            s.pending(),
            0,
            "SIGCONT discards the stop; by default it is ignored"
        );
        s.sigaction(SIGCONT, Some(handler(HANDLER, 0, 0))).unwrap();
        s.raise(SIGCONT, Siginfo::default());
        s.raise(SIGSTOP, Siginfo::default());
        assert_eq!(
            s.pending(),
            bit(SIGSTOP),
            "a stop discards a pending SIGCONT"
        );
    }

    #[test]
    fn default_ignored_signals_are_discarded_at_once() {
        let mut s = SignalState::default();
        s.raise(SIGCHLD, Siginfo::default());
        assert_eq!(s.pending(), 0);
    }

    #[test]
    fn blocked_signal_waits_until_unblocked() {
        let mut s = SignalState::default();
        s.sigaction(SIGUSR1, Some(handler(HANDLER, 0, 0))).unwrap();
        s.sigprocmask(SIG_BLOCK, Some(bit(SIGUSR1))).unwrap();
        s.raise(SIGUSR1, Siginfo::kill(SIGUSR1, SI_USER, 1, 0));
        assert!(!s.has_deliverable());
        s.sigprocmask(SIG_UNBLOCK, Some(bit(SIGUSR1))).unwrap();
        let (signo, info, d) = s.take_next().unwrap();
        assert_eq!((signo, info.pid()), (SIGUSR1, 1));
        assert!(matches!(d, Delivery::Handle(a) if a.handler == HANDLER));
    }

    #[test]
    fn handler_delivery_blocks_the_signal_and_its_mask() {
        let mut s = SignalState::default();
        s.sigaction(SIGUSR1, Some(handler(HANDLER, 0, bit(SIGUSR2))))
            .unwrap();
        s.raise(SIGUSR1, Siginfo::default());
        s.take_next().unwrap();
        assert_eq!(s.mask, bit(SIGUSR1) | bit(SIGUSR2));
    }

    #[test]
    fn nodefer_and_resethand_change_delivery() {
        let mut s = SignalState::default();
        s.sigaction(
            SIGUSR1,
            Some(handler(HANDLER, SA_NODEFER | SA_RESETHAND, 0)),
        )
        .unwrap();
        s.raise(SIGUSR1, Siginfo::default());
        s.take_next().unwrap();
        assert_eq!(s.mask, 0);
        assert_eq!(s.action(SIGUSR1).unwrap().handler, SIG_DFL);
    }

    #[test]
    fn default_terminating_signal_terminates() {
        let mut s = SignalState::default();
        s.raise(SIGTERM, Siginfo::default());
        assert_eq!(
            s.take_next().map(|(n, _, d)| (n, d)),
            Some((SIGTERM, Delivery::Terminate))
        );
    }

    #[test]
    fn lowest_signal_is_delivered_first() {
        let mut s = SignalState::default();
        s.raise(SIGTERM, Siginfo::default());
        s.raise(SIGHUP, Siginfo::default());
        assert_eq!(s.take_next().unwrap().0, SIGHUP);
        assert_eq!(s.take_next().unwrap().0, SIGTERM);
        assert!(s.take_next().is_none());
    }

    #[test]
    fn forced_fault_overrides_block_and_ignore() {
        let mut s = SignalState::default();
        s.sigaction(SIGSEGV, Some(handler(SIG_IGN, 0, 0))).unwrap();
        s.sigprocmask(SIG_BLOCK, Some(bit(SIGSEGV))).unwrap();
        s.force(SIGSEGV, Siginfo::fault(SIGSEGV, SEGV_MAPERR, 0));
        assert_eq!(
            s.take_next().map(|(n, _, d)| (n, d)),
            Some((SIGSEGV, Delivery::Terminate))
        );
    }

    #[test]
    fn ignoring_a_pending_signal_discards_it() {
        let mut s = SignalState::default();
        s.sigprocmask(SIG_BLOCK, Some(bit(SIGUSR1))).unwrap();
        s.raise(SIGUSR1, Siginfo::default());
        s.sigprocmask(SIG_UNBLOCK, Some(bit(SIGUSR1))).unwrap();
        s.sigaction(SIGUSR1, Some(handler(SIG_IGN, 0, 0))).unwrap();
        assert_eq!(s.pending(), 0);
    }

    #[test]
    fn frame_is_below_the_red_zone_with_call_alignment() {
        let s = SignalState::default();
        let act = handler(HANDLER, 0, 0);
        let l = frame_layout(&s, &act, 0x7fff_0000_1008);
        assert_eq!((l.frame + 8) % 16, 0);
        assert_eq!(l.fpstate % 64, 0);
        assert!(l.fpstate + FX_SIZE as u64 <= 0x7fff_0000_1008 - RED_ZONE);
        assert!(l.frame + core::mem::size_of::<RtSigframe>() as u64 <= l.fpstate);
    }

    #[test]
    fn onstack_handler_runs_on_the_alternate_stack() {
        let mut s = SignalState::default();
        s.sigaltstack(
            Some(StackT {
                ss_sp: 0x10_0000_0000,
                ss_flags: 0,
                _pad: 0,
                ss_size: 0x4000,
            }),
            0x7fff_0000_0000,
        )
        .unwrap();
        let act = handler(HANDLER, SA_ONSTACK, 0);
        let l = frame_layout(&s, &act, 0x7fff_0000_0000);
        assert!(l.frame > 0x10_0000_0000 && l.fpstate < 0x10_0000_4000);
        // Already on it: stay on it, below the red zone.
        let l2 = frame_layout(&s, &act, 0x10_0000_2000);
        assert!(l2.fpstate < 0x10_0000_2000 - RED_ZONE);
    }

    #[test]
    fn altstack_is_checked_and_reports_onstack() {
        let mut s = SignalState::default();
        let small = StackT {
            ss_sp: 0x1000_0000,
            ss_size: 100,
            ..StackT::default()
        };
        assert_eq!(s.sigaltstack(Some(small), 0), Err(Errno::ENOMEM));
        let ok = StackT {
            ss_size: 8192,
            ..small
        };
        assert_eq!(s.sigaltstack(Some(ok), 0).unwrap().ss_flags, SS_DISABLE);
        let old = s.sigaltstack(None, 0x1000_1000).unwrap();
        assert_eq!(old.ss_flags, SS_ONSTACK);
        assert_eq!(s.sigaltstack(Some(ok), 0x1000_1000), Err(Errno::EPERM));
    }

    #[test]
    fn handler_entry_and_sigreturn_round_trip_the_registers() {
        let s = SignalState::default();
        let act = handler(HANDLER, SA_SIGINFO, 0);
        let mut f = TrapFrame {
            rax: 1,
            rbx: 2,
            rcx: 3,
            r15: 15,
            rip: 0x40_1000,
            rsp: 0x7fff_0000_1000,
            rflags: 0x246 | (1 << 10),
            ..TrapFrame::default()
        };
        let before = f.clone();
        let l = frame_layout(&s, &act, f.rsp);
        let frame = build_frame(&s, &f, &act, Siginfo::default(), 0x55, &l, 0);
        enter_handler(&mut f, SIGUSR1, &act, &l);
        assert_eq!(f.rip, HANDLER);
        assert_eq!(f.rdi, u64::from(SIGUSR1));
        assert_eq!(f.rsi, l.frame + 312);
        assert_eq!(f.rdx, l.frame + 8);
        assert_eq!(f.rflags & (1 << 10), 0, "DF clear in the handler");
        assert_eq!(frame.pretcode, act.restorer);
        assert_eq!(frame.uc.uc_sigmask, 0x55);
        assert_eq!(frame.uc.uc_mcontext.fpstate, l.fpstate);
        restore_context(&mut f, &frame.uc.uc_mcontext);
        assert_eq!(
            (f.rax, f.rbx, f.rcx, f.r15, f.rip, f.rsp, f.rflags),
            (
                before.rax,
                before.rbx,
                before.rcx,
                before.r15,
                before.rip,
                before.rsp,
                before.rflags
            )
        );
    }

    #[test]
    fn sigreturn_cannot_raise_privilege_or_clear_if() {
        let mut f = TrapFrame::default();
        let sc = Sigcontext {
            eflags: 0,
            cs: 0x10,
            ..Sigcontext::default()
        };
        restore_context(&mut f, &sc);
        assert_eq!(f.cs, USER_CS);
        assert_ne!(f.rflags & (1 << 9), 0, "IF stays set");
        let sc = Sigcontext {
            eflags: u64::MAX,
            ..Sigcontext::default()
        };
        restore_context(&mut f, &sc);
        assert_eq!(f.rflags & (3 << 12), 0, "IOPL stays 0");
    }
}
