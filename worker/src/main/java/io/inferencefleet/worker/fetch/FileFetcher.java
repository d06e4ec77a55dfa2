package io.inferencefleet.worker.fetch;

import static io.inferencefleet.worker.fetch.FetchAttempt.quote;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.List;

/**
 * {@code file:} URIs: regular files under {@link FetchConfig#fileRoots()}, read whole if no larger
 * than {@link FetchConfig#maxImageBytes()}. Everything that can be refused without touching the file
 * system is refused first, so that callers cannot probe which files exist outside the roots.
 */
final class FileFetcher implements ImageSource {
    private final FetchConfig config;

    FileFetcher(FetchConfig config) {
        this.config = config;
    }

    @Override
    public FetchResult fetch(URI uri, FetchAttempt attempt) {
        if (config.fileRoots().isEmpty()) {
            return attempt.fail(FetchStatus.FORBIDDEN_URI, "file: URIs are not allowed (no fileRoots configured)");
        }
        if (uri.isOpaque() || uri.getPath() == null || !uri.getPath().startsWith("/")) {
            return attempt.fail(FetchStatus.FORBIDDEN_URI, "file URI " + quote(uri.toString())
                    + " is not absolute (expected file:///dir/image.jpg)");
        }
        if (uri.getRawAuthority() != null) {
            return attempt.fail(FetchStatus.FORBIDDEN_URI, "file URI " + quote(uri.toString()) + " names a host ("
                    + quote(uri.getRawAuthority()) + "); only local files are allowed");
        }
        if (uri.getRawQuery() != null || uri.getRawFragment() != null) {
            return attempt.fail(FetchStatus.FORBIDDEN_URI, "file URI " + quote(uri.toString())
                    + " has a query or fragment (encode ? and # in file names as %3F and %23)");
        }
        String path = uri.getPath(); // decoded, so %2e%2e is caught as ..
        for (String segment : path.split("/")) {
            if (segment.equals("..")) {
                return attempt.fail(FetchStatus.FORBIDDEN_URI, "file path " + quote(path) + " contains '..'");
            }
        }
        Path named;
        try {
            named = Path.of(path).normalize();
        } catch (InvalidPathException e) {
            return attempt.fail(FetchStatus.FORBIDDEN_URI, "file path " + quote(path) + " is invalid: " + e.getReason());
        }
        // Refuse before touching the file system, so that callers cannot probe which files exist elsewhere.
        if (!underAny(named, config.namedFileRoots())) {
            return attempt.fail(FetchStatus.FORBIDDEN_URI, "file " + named + " is outside the file roots "
                    + config.fileRoots());
        }
        return read(named, attempt);
    }

    private FetchResult read(Path named, FetchAttempt attempt) {
        Path real;
        try {
            real = named.toRealPath();
        } catch (NoSuchFileException e) {
            return attempt.fail(FetchStatus.NOT_FOUND, "no file " + named);
        } catch (IOException e) {
            return attempt.fail(FetchStatus.FETCH_FAILED, "cannot resolve " + named + ": " + e);
        }
        if (!underAny(real, config.fileRoots())) {
            return attempt.fail(FetchStatus.FORBIDDEN_URI, "file " + named + " resolves through a symlink to outside"
                    + " the file roots " + config.fileRoots());
        }
        try {
            BasicFileAttributes attributes = Files.readAttributes(real, BasicFileAttributes.class,
                    LinkOption.NOFOLLOW_LINKS);
            if (!attributes.isRegularFile()) {
                // Directories, FIFOs and devices: a FIFO would block us forever, a device may never end.
                return attempt.fail(FetchStatus.NOT_FOUND, named + " is not a regular file");
            }
            long sizeBytes = attributes.size();
            if (sizeBytes > config.maxImageBytes()) {
                return attempt.fail(FetchStatus.TOO_LARGE, "file " + named + " is " + sizeBytes
                        + " bytes, over maxImageBytes=" + config.maxImageBytes());
            }
            byte[] bytes = new byte[(int) sizeBytes];
            // NOFOLLOW: the last component must still be the file we checked, not a symlink swapped in since.
            try (InputStream in = Files.newInputStream(real, LinkOption.NOFOLLOW_LINKS)) {
                int read = in.readNBytes(bytes, 0, bytes.length);
                if (read < bytes.length || in.read() != -1) {
                    // Probably still being written; a partial image would only fail later, less clearly.
                    return attempt.fail(FetchStatus.FETCH_FAILED, "file " + named + " changed size while being read"
                            + " (was " + sizeBytes + " bytes)");
                }
            }
            return attempt.ok(bytes);
        } catch (NoSuchFileException e) {
            return attempt.fail(FetchStatus.NOT_FOUND, "file " + named + " disappeared while being read");
        } catch (IOException e) {
            return attempt.fail(FetchStatus.FETCH_FAILED, "cannot read " + named + ": " + e);
        }
    }

    private static boolean underAny(Path path, List<Path> roots) {
        for (Path root : roots) {
            if (path.startsWith(root)) { // by whole components: /data/rootX is not under /data/root
                return true;
            }
        }
        return false;
    }

    @Override
    public void close() {
        // Nothing held: reads run on the caller's thread.
    }
}
