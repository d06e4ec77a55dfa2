package io.inferencefleet.shm;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/** Deterministic tensor contents, so readers can check what they got. */
final class TestTensors {
    private TestTensors() {}

    static void fill(MutableDirectBuffer buffer, int seed) {
        int length = buffer.capacity();
        int i = 0;
        for (; i + 4 <= length; i += 4) {
            buffer.putInt(i, seed * 31 + i);
        }
        for (; i < length; i++) {
            buffer.putByte(i, (byte) seed);
        }
    }

    static boolean matches(DirectBuffer buffer, int seed) {
        int length = buffer.capacity();
        for (int i = 0; i + 4 <= length; i += 4) {
            if (buffer.getInt(i) != seed * 31 + i) {
                return false;
            }
        }
        return true;
    }

    static long checksum(DirectBuffer buffer) {
        long sum = 0;
        int length = buffer.capacity();
        for (int i = 0; i + 8 <= length; i += 8) {
            sum += buffer.getLong(i);
        }
        return sum;
    }
}
