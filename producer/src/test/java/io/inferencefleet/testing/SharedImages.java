package io.inferencefleet.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The shared real photos ({@code ../shared/images} beside the repository), as a real path (the
 * worker refuses {@code file://} URIs containing {@code ..}). Looked up in the system property
 * {@code fleet.shared.images} (set by the build), the environment variable {@code FLEET_SHARED_IMAGES},
 * then {@code /work/shared/images}.
 */
public final class SharedImages {
    private SharedImages() {}

    public static Path dir() {
        String[] candidates = {System.getProperty("fleet.shared.images"), System.getenv("FLEET_SHARED_IMAGES"),
            "/work/shared/images"};
        for (String candidate : candidates) {
            if (candidate != null && Files.isDirectory(Path.of(candidate))) {
                try {
                    return Path.of(candidate).toRealPath();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        }
        throw new IllegalStateException("shared images not found; tried " + Arrays.toString(candidates));
    }
}
