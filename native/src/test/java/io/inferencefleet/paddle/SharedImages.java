package io.inferencefleet.paddle;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The shared real photos ({@code ../shared/images} beside the repository). Looked up in the system
 * property {@code fleet.shared.images} (set by the build), the environment variable
 * {@code FLEET_SHARED_IMAGES}, then {@code /work/shared/images}; a failure lists all three.
 */
final class SharedImages {
    private SharedImages() {}

    static Path dir() {
        List<String> candidates = new ArrayList<>();
        candidates.add(System.getProperty("fleet.shared.images"));
        candidates.add(System.getenv("FLEET_SHARED_IMAGES"));
        candidates.add("/work/shared/images");
        for (String candidate : candidates) {
            if (candidate != null && Files.isDirectory(Path.of(candidate))) {
                return Path.of(candidate);
            }
        }
        throw new IllegalStateException("shared images not found; tried " + candidates);
    }
}
