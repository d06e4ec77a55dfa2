package io.inferencefleet.worker.lane;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SharedMemoryBudgetTest {
    @TempDir
    Path temp;

    @Test
    void tooLittleSpaceIsAStartUpErrorNamingShmDirNeededAndFree() throws Exception {
        // Regression: free space was never checked; on a small tmpfs the first write past its end was a SIGBUS.
        long free = Files.getFileStore(temp).getUsableSpace();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SharedMemoryBudget.check(temp.resolve("w1"), 2, free));
        assertTrue(e.getMessage().startsWith("Invalid value " + temp.resolve("w1") + " for shm.dir: 2 tensor queues need "
                + 2 * free + " bytes free"), e.getMessage());
        SharedMemoryBudget.check(temp.resolve("w1"), 2, 1 << 20);  // plenty
    }

    @Test
    void aDirectoryOthersMayWriteWithoutTheStickyBitIsRefused() throws Exception {
        Path shared = Files.createDirectory(temp.resolve("shared"));
        Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rwxrwxrwx"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SharedMemoryBudget.check(shared.resolve("w1"), 1, 1));
        assertTrue(e.getMessage().contains("writable by other users"), e.getMessage());
    }
}
