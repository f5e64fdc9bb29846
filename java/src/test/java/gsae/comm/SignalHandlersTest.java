package gsae.comm;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.List;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** A handler replaced behind the JVM's back is seen, and put back, on a signal the JVM leaves alone (SIGURG). */
class SignalHandlersTest {

    private static final int SIGURG = 23;
    private static final long SIG_IGN = 1;

    @Test
    @SuppressWarnings("restricted")
    void aReplacedHandlerIsSeenAndRestored() throws Throwable {
        MethodHandle sigaction = Linker.nativeLinker().downcallHandle(Linker.nativeLinker().defaultLookup().find("sigaction").orElseThrow(),
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment before = arena.allocate(256), ignore = arena.allocate(256), after = arena.allocate(256);
            assertEquals(0, (int) sigaction.invokeExact(SIGURG, MemorySegment.NULL, before));
            SignalHandlers snapshot = SignalHandlers.read(SIGURG);
            assertEquals(List.of(), snapshot.replaced());

            ignore.copyFrom(before);
            ignore.set(JAVA_LONG, 0, SIG_IGN == before.get(JAVA_LONG, 0) ? 0 : SIG_IGN);
            assertEquals(0, (int) sigaction.invokeExact(SIGURG, ignore, MemorySegment.NULL));
            assertEquals(List.of("signal 23"), snapshot.replaced());

            snapshot.restore();
            assertEquals(List.of(), snapshot.replaced());
            assertEquals(0, (int) sigaction.invokeExact(SIGURG, MemorySegment.NULL, after));
            assertEquals(before.get(JAVA_LONG, 0), after.get(JAVA_LONG, 0));
        }
    }
}
