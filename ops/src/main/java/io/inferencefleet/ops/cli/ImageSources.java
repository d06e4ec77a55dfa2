package io.inferencefleet.ops.cli;

import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Turns what a user names on the command line into image URIs for requests: URIs are kept as they
 * are; files become absolute {@code file://} URIs of their real path (the worker refuses paths
 * through {@code ..} or links outside its roots); directories contribute their regular files
 * (sorted, not recursive); globs ({@code *}, {@code ?}, {@code [..]}, {@code {a,b}}) are matched
 * against the files below their fixed leading directories (sorted; {@code **} crosses directories).
 */
final class ImageSources {
    private static final Pattern URI_SCHEME = Pattern.compile("^[A-Za-z][A-Za-z0-9+.-]*:/.*");
    private static final Pattern GLOB = Pattern.compile("[*?\\[{]");

    private ImageSources() {}

    /** The URIs for {@code sources} followed by those for each line of {@code listFile} (blank lines and {@code #} comments skipped). */
    static List<String> expand(List<String> sources, Path listFile) throws IOException {
        List<String> uris = new ArrayList<>();
        for (String source : sources) {
            expandOne(source, uris);
        }
        if (listFile != null) {
            if (!Files.isRegularFile(listFile)) {
                throw new IllegalArgumentException(listFile + ": no such list file");
            }
            for (String line : Files.readAllLines(listFile)) {
                String entry = line.strip();
                if (!entry.isEmpty() && !entry.startsWith("#")) {
                    expandOne(entry, uris);
                }
            }
        }
        return uris;
    }

    private static void expandOne(String source, List<String> uris) throws IOException {
        if (URI_SCHEME.matcher(source).matches()) {
            uris.add(source);
            return;
        }
        if (GLOB.matcher(source).find()) {
            List<Path> matches = glob(source);
            if (matches.isEmpty()) {
                throw new IllegalArgumentException(source + ": no file matches");
            }
            matches.forEach(p -> uris.add(fileUri(p)));
            return;
        }
        Path path = Path.of(source);
        if (Files.isDirectory(path)) {
            try (Stream<Path> children = Files.list(path)) {
                children.filter(Files::isRegularFile).sorted().forEach(p -> uris.add(fileUri(p)));
            }
        } else if (Files.isRegularFile(path)) {
            uris.add(fileUri(path));
        } else {
            throw new IllegalArgumentException(source + ": no such file or directory");
        }
    }

    private static List<Path> glob(String pattern) throws IOException {
        // The directories before the first segment with a wildcard are fixed: walk only below them.
        String[] segments = pattern.split("/", -1);
        StringBuilder base = new StringBuilder(pattern.startsWith("/") ? "/" : "");
        int depth = 0;
        for (int i = 0; i < segments.length - 1 && !GLOB.matcher(segments[i]).find(); i++) {
            if (!segments[i].isEmpty()) {
                base.append(segments[i]).append('/');
            }
            depth++;
        }
        Path root = Path.of(base.length() == 0 ? "." : base.toString());
        if (!Files.isDirectory(root)) {
            return List.of();
        }
        PathMatcher matcher = FileSystems.getDefault().getPathMatcher("glob:" + pattern);
        boolean recursive = pattern.contains("**");
        int maxDepth = recursive ? Integer.MAX_VALUE : segments.length - depth;
        try (Stream<Path> walk = Files.walk(root, maxDepth)) {
            return walk.filter(Files::isRegularFile)
                    .filter(p -> matcher.matches(base.length() == 0 ? root.relativize(p) : p))
                    .sorted().toList();
        }
    }

    private static String fileUri(Path path) {
        try {
            return path.toRealPath().toUri().toString();
        } catch (IOException e) {
            throw new IllegalArgumentException(path + ": " + e.getMessage(), e);
        }
    }
}
