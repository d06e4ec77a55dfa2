package io.inferencefleet.shm.internal;

import com.sun.jna.Native;
import net.openhft.posix.PosixAPI;

/** Per-thread nice value: on Linux {@code setpriority(PRIO_PROCESS, tid, nice)} affects one thread. */
final class ThreadPriority {
    private static final int PRIO_PROCESS = 0;
    private static final boolean AVAILABLE;

    static {
        boolean ok;
        try {
            Native.register(ThreadPriority.class, "c");
            ok = true;
        } catch (Throwable t) {
            ok = false;
        }
        AVAILABLE = ok;
    }

    private ThreadPriority() {}

    private static native int setpriority(int which, int who, int prio);

    /** Sets the calling thread's nice value; false if the platform refused or lacks it. */
    static boolean setCurrentThreadNice(int nice) {
        return AVAILABLE && setpriority(PRIO_PROCESS, PosixAPI.posix().gettid(), nice) == 0;
    }
}
