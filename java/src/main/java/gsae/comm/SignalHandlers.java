package gsae.comm;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.List;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The process's handlers for some signals, read through libc's {@code sigaction}, to tell whether a
 * native library replaced them. The JVM turns SIGSEGV, SIGBUS and SIGFPE into NullPointerException,
 * stack overflow and ArithmeticException; UCX (under MPICH, and Open MPI's UCX transport) installs
 * its own handlers for them at initialisation unless {@code UCX_ERROR_SIGNALS} is empty, and the JVM
 * then dies at its next implicit null check. Linux only: the struct's layout is glibc's (152 bytes
 * on x86-64 and AArch64, the handler first).
 */
final class SignalHandlers {

    static final int SIGBUS = 7, SIGFPE = 8, SIGSEGV = 11;

    /** The signals the JVM relies on. */
    static final int[] JVM_SIGNALS = {SIGSEGV, SIGBUS, SIGFPE};

    /** Room for glibc's struct sigaction (152 bytes) with a margin. */
    private static final long STRUCT_BYTES = 256;

    @SuppressWarnings("restricted") // native access is granted by --enable-native-access (gsae's launcher and poms)
    private static final MethodHandle SIGACTION = Linker.nativeLinker().downcallHandle(
            Linker.nativeLinker().defaultLookup().find("sigaction").orElseThrow(),
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));

    private final int[] signals;
    private final MemorySegment saved; // [signals.length, STRUCT_BYTES]: each signal's struct sigaction

    private SignalHandlers(int[] signals, MemorySegment saved) {
        this.signals = signals.clone();
        this.saved = saved;
    }

    /** The handlers of {@code signals} now. */
    static SignalHandlers read(int... signals) {
        MemorySegment all = Arena.ofAuto().allocate(STRUCT_BYTES * signals.length, 16);
        for (int i = 0; i < signals.length; i++) call(signals[i], MemorySegment.NULL, slot(all, i));
        return new SignalHandlers(signals, all);
    }

    /** The signals whose handler differs now from when this snapshot was read, as "SIGSEGV" etc. */
    List<String> replaced() {
        SignalHandlers now = read(signals);
        List<String> names = new ArrayList<>();
        for (int i = 0; i < signals.length; i++)
            if (handler(saved, i) != handler(now.saved, i)) names.add(name(signals[i]));
        return names;
    }

    /** Installs the snapshot's handlers again. */
    void restore() {
        for (int i = 0; i < signals.length; i++) call(signals[i], slot(saved, i), MemorySegment.NULL);
    }

    /** The handler (or SIG_DFL 0, SIG_IGN 1) of the i-th signal: the struct's first field. */
    private static long handler(MemorySegment all, int i) {
        return slot(all, i).get(JAVA_LONG, 0);
    }

    private static MemorySegment slot(MemorySegment all, int i) {
        return all.asSlice(i * STRUCT_BYTES, STRUCT_BYTES);
    }

    private static void call(int signal, MemorySegment act, MemorySegment old) {
        int rc;
        try {
            rc = (int) SIGACTION.invokeExact(signal, act, old);
        } catch (Throwable t) {
            throw new IllegalStateException("sigaction(" + signal + ") could not be called: " + t, t);
        }
        if (rc != 0) throw new IllegalStateException("sigaction(" + name(signal) + ") failed");
    }

    static String name(int signal) {
        return switch (signal) {
            case SIGBUS -> "SIGBUS";
            case SIGFPE -> "SIGFPE";
            case SIGSEGV -> "SIGSEGV";
            default -> "signal " + signal;
        };
    }
}
