package io.inferencefleet.paddle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NativeLibraryTest {

    /** Entry point of the forked JVM: loads Paddle and prints its version, or the failure. */
    public static void main(String[] args) {
        try {
            System.out.println("LOADED " + Predictor.paddleVersion().lines().findFirst().orElse(""));
        } catch (Throwable t) {
            System.out.println("FAILED " + t);
            System.exit(3);
        }
    }

    @Test
    void loadsPackagedLibrariesWithoutLdLibraryPathIntoAVersionedCache(@TempDir Path cache) throws Exception {
        ForkedJvm.Result result = ForkedJvm.run(NativeLibraryTest.class,
                List.of("-D" + NativeLibrary.CACHE_DIR_PROPERTY + "=" + cache));
        assertEquals(0, result.exitCode(), result.output());
        assertTrue(result.output().contains("LOADED version: 2.3.2"), result.output());
        try (var dirs = Files.list(cache)) {
            Path extracted = dirs.findFirst().orElseThrow();
            assertTrue(extracted.getFileName().toString().startsWith("paddle-2.3.2-"), extracted.toString());
            for (String lib : new String[] {"libfleet_paddle_jni.so", "libpaddle_inference.so",
                    "libonnxruntime.so.1.11.1", "libpaddle2onnx.so.1.0.0rc2"}) {
                assertTrue(Files.isRegularFile(extracted.resolve(lib)), lib + " extracted");
            }
        }
    }

    @Test
    void overrideDirectoryIsUsedAndAFailedLoadNamesEveryPlaceTried(@TempDir Path empty) throws Exception {
        ForkedJvm.Result result = ForkedJvm.run(NativeLibraryTest.class,
                List.of("-D" + NativeLibrary.LIB_DIR_PROPERTY + "=" + empty));
        assertEquals(3, result.exitCode(), result.output());
        assertTrue(result.output().contains(empty.resolve(NativeLibrary.SHIM).toString()), result.output());
        assertTrue(result.output().contains("no such file"), result.output());
    }

    @Test
    void overrideDirectoryWithTheLibrariesLoads(@TempDir Path cache) throws Exception {
        // Extract once through the packaged path, then point the override at that directory.
        assertEquals(0, ForkedJvm.run(NativeLibraryTest.class,
                List.of("-D" + NativeLibrary.CACHE_DIR_PROPERTY + "=" + cache)).exitCode());
        Path dir;
        try (var dirs = Files.list(cache)) {
            dir = dirs.findFirst().orElseThrow();
        }
        ForkedJvm.Result result = ForkedJvm.run(NativeLibraryTest.class,
                List.of("-D" + NativeLibrary.LIB_DIR_PROPERTY + "=" + dir, "-Dorg.slf4j.simpleLogger.defaultLogLevel=info"));
        assertEquals(0, result.exitCode(), result.output());
        assertTrue(result.output().contains("dir=" + dir), result.output());
    }
}
