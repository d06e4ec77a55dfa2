package io.inferencefleet.worker.lane;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A {@link ByteBuffer} view of native memory (a shared-memory tensor slot), so that OpenCV can write
 * the preprocessed planes straight into it. Uses the JDK's private {@code DirectByteBuffer(long,
 * int)} constructor, opened by {@code --add-opens java.base/java.nio} in jvm.options; the view does
 * not own the memory.
 */
final class DirectMemory {
    private static final MethodHandle WRAP;

    static {
        try {
            Class<?> direct = Class.forName("java.nio.DirectByteBuffer");
            var lookup = MethodHandles.privateLookupIn(direct, MethodHandles.lookup());
            WRAP = lookup.findConstructor(direct, MethodType.methodType(void.class, long.class, int.class));
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError("Cannot view native memory as a ByteBuffer (is jvm.options applied, "
                    + "with --add-opens=java.base/java.nio=ALL-UNNAMED?): " + e);
        }
    }

    private DirectMemory() {}

    static ByteBuffer wrap(long address, int length) {
        try {
            return ((ByteBuffer) WRAP.invoke(address, length)).order(ByteOrder.nativeOrder());
        } catch (Throwable t) {
            throw new IllegalStateException("cannot wrap native memory at 0x" + Long.toHexString(address), t);
        }
    }
}
