package io.inferencefleet.worker.fetch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code file:} URIs against real files, directories and symlinks in a temporary directory. */
class FileFetchTest {
    private static final int MAX_BYTES = 1024;

    @TempDir
    Path tmp;
    private Path root;
    private Path outside;
    private ImageFetcher fetcher;

    @BeforeEach
    void setUp() throws IOException {
        root = Files.createDirectory(tmp.resolve("root"));
        outside = Files.createDirectory(tmp.resolve("outside"));
        Files.write(outside.resolve("secret.jpg"), bytes(10));
        fetcher = new ImageFetcher(FetchConfig.defaults().withFileRoots(root).withMaxImageBytes(MAX_BYTES));
    }

    @AfterEach
    void tearDown() {
        fetcher.close();
    }

    @Test
    void readsAFileUnderARoot() throws IOException {
        byte[] image = bytes(MAX_BYTES); // exactly at the limit is fine
        Path file = Files.write(Files.createDirectory(root.resolve("sub")).resolve("a.jpg"), image);
        FetchResult r = fetcher.fetch(file.toUri().toString());
        assertEquals(FetchStatus.OK, r.status(), r.detail());
        assertArrayEquals(image, r.bytes());
        assertEquals("", r.detail());
        assertTrue(r.elapsedNs() > 0);
    }

    @Test
    void missingFileIsNotFound() {
        FetchResult r = fetcher.fetch(root.resolve("nope.jpg").toUri().toString());
        assertEquals(FetchStatus.NOT_FOUND, r.status(), r.detail());
        assertEquals("not_found", r.status().code());
        assertTrue(r.detail().contains("nope.jpg"), r.detail());
        assertEquals(0, r.bytes().length);
    }

    @Test
    void directoryIsNotAnImage() {
        assertEquals(FetchStatus.NOT_FOUND, fetcher.fetch(root.toUri().toString()).status());
    }

    @Test
    void fileOutsideTheRootsIsForbiddenWhetherOrNotItExists() {
        FetchResult r = fetcher.fetch(outside.resolve("secret.jpg").toUri().toString());
        assertEquals(FetchStatus.FORBIDDEN_URI, r.status(), r.detail());
        assertTrue(r.detail().contains("outside the file roots"), r.detail());
        // Same answer for a file that does not exist: no probing of the rest of the disk.
        assertEquals(FetchStatus.FORBIDDEN_URI, fetcher.fetch(outside.resolve("nope.jpg").toUri().toString()).status());
        assertEquals(FetchStatus.FORBIDDEN_URI, fetcher.fetch("file:///etc/passwd").status());
        // A sibling whose name starts with the root's name is not under it.
        assertEquals(FetchStatus.FORBIDDEN_URI, fetcher.fetch("file://" + root + "x/a.jpg").status());
    }

    @Test
    void dotDotIsForbiddenEvenWhenItWouldLandInsideTheRoot() throws IOException {
        Files.write(root.resolve("a.jpg"), bytes(10));
        for (String uri : new String[] {"file://" + root + "/../outside/secret.jpg", "file://" + root + "/sub/../a.jpg",
                "file://" + root + "/%2e%2e/outside/secret.jpg"}) {
            FetchResult r = fetcher.fetch(uri);
            assertEquals(FetchStatus.FORBIDDEN_URI, r.status(), uri);
            assertTrue(r.detail().contains("'..'"), r.detail());
        }
    }

    @Test
    void symlinkOutOfTheRootIsForbidden() throws IOException {
        Path fileLink = Files.createSymbolicLink(root.resolve("link.jpg"), outside.resolve("secret.jpg"));
        FetchResult r = fetcher.fetch(fileLink.toUri().toString());
        assertEquals(FetchStatus.FORBIDDEN_URI, r.status(), r.detail());
        assertTrue(r.detail().contains("symlink"), r.detail());

        Path dirLink = Files.createSymbolicLink(root.resolve("escape"), outside);
        assertEquals(FetchStatus.FORBIDDEN_URI, fetcher.fetch(dirLink.resolve("secret.jpg").toUri().toString()).status());
    }

    @Test
    void symlinkWithinTheRootIsFollowed() throws IOException {
        byte[] image = bytes(100);
        Path target = Files.write(root.resolve("target.jpg"), image);
        Path link = Files.createSymbolicLink(root.resolve("alias.jpg"), target);
        FetchResult r = fetcher.fetch(link.toUri().toString());
        assertEquals(FetchStatus.OK, r.status(), r.detail());
        assertArrayEquals(image, r.bytes());
    }

    @Test
    void rootGivenThroughASymlinkWorksByEitherName() throws IOException {
        byte[] image = bytes(100);
        Files.write(root.resolve("a.jpg"), image);
        Path rootLink = Files.createSymbolicLink(tmp.resolve("mounted"), root);
        try (ImageFetcher viaLink = new ImageFetcher(FetchConfig.defaults().withFileRoots(rootLink))) {
            assertArrayEquals(image, viaLink.fetch(rootLink.resolve("a.jpg").toUri().toString()).bytes());
            assertArrayEquals(image, viaLink.fetch(root.resolve("a.jpg").toUri().toString()).bytes());
        }
    }

    @Test
    void fileOverTheLimitIsTooLargeBeforeReading() throws IOException {
        Path big = Files.write(root.resolve("big.jpg"), bytes(MAX_BYTES + 1));
        FetchResult r = fetcher.fetch(big.toUri().toString());
        assertEquals(FetchStatus.TOO_LARGE, r.status(), r.detail());
        assertTrue(r.detail().contains((MAX_BYTES + 1) + " bytes, over maxImageBytes=" + MAX_BYTES), r.detail());
    }

    @Test
    void fileUrisThatAreNotPlainLocalPathsAreForbidden() throws IOException {
        Files.write(root.resolve("a.jpg"), bytes(10));
        for (String uri : new String[] {"file:a.jpg", "file:", "file://otherhost" + root + "/a.jpg",
                "file://" + root + "/a.jpg?x=1", "file://" + root + "/a.jpg#frag", "file://" + root + "/a%00.jpg"}) {
            FetchResult r = fetcher.fetch(uri);
            assertEquals(FetchStatus.FORBIDDEN_URI, r.status(), uri + " -> " + r.detail());
        }
    }

    @Test
    void noRootsMeansNoFiles() throws IOException {
        Path file = Files.write(root.resolve("a.jpg"), bytes(10));
        try (ImageFetcher none = new ImageFetcher(FetchConfig.defaults())) {
            FetchResult r = none.fetch(file.toUri().toString());
            assertEquals(FetchStatus.FORBIDDEN_URI, r.status());
            assertTrue(r.detail().contains("no fileRoots configured"), r.detail());
        }
    }

    @Test
    void fetchAfterCloseIsAProgrammingError() {
        fetcher.close();
        fetcher.close(); // harmless
        assertThrows(IllegalStateException.class, () -> fetcher.fetch(root.resolve("a.jpg").toUri().toString()));
    }

    static byte[] bytes(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i * 31 + 7);
        }
        return b;
    }
}
