package gsae.cli;

import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;

/**
 * What a training step costs in memory, read from the JVM's own counters: heap live after a full
 * collection, heap allocated by all threads, and off-heap (direct and FFM native) memory in use.
 */
record MemoryUse(long liveHeap, long allocated, long offHeap) {

    private static final com.sun.management.ThreadMXBean THREADS = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    /** A reading now; collects garbage first so that liveHeap is what is really held. */
    static MemoryUse now() {
        System.gc();
        long offHeap = 0;
        for (BufferPoolMXBean pool : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) offHeap += pool.getMemoryUsed();
        return new MemoryUse(ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed(), THREADS.getTotalThreadAllocatedBytes(), offHeap);
    }

    static String mib(long bytes) {
        return String.format("%.1f MiB", bytes / 1048576.0);
    }
}
