package io.inferencefleet.worker.fetch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FetchConfigTest {
    @TempDir
    Path tmp;

    @Test
    void defaultsAllowNothingAndHaveSaneLimits() {
        FetchConfig config = FetchConfig.defaults();
        assertEquals(List.of(), config.fileRoots());
        assertEquals(Set.of(), config.allowedHosts());
        assertEquals(20 << 20, config.maxImageBytes());
        assertTrue(config.connectTimeoutMs() > 0 && config.readTimeoutMs() >= config.connectTimeoutMs());
    }

    @Test
    void rootsAreStoredAsRealPaths() throws IOException {
        Path real = Files.createDirectory(tmp.resolve("real"));
        Path link = Files.createSymbolicLink(tmp.resolve("link"), real);
        FetchConfig config = FetchConfig.defaults().withFileRoots(link, real);
        assertEquals(List.of(real.toRealPath()), config.fileRoots());
    }

    @Test
    void missingRootOrFileAsRootIsRefusedByName() throws IOException {
        Path missing = tmp.resolve("missing");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> FetchConfig.defaults().withFileRoots(missing));
        assertTrue(e.getMessage().startsWith("Invalid value " + missing + " for fileRoots: does not exist"), e.getMessage());

        Path file = Files.writeString(tmp.resolve("file"), "x");
        e = assertThrows(IllegalArgumentException.class, () -> FetchConfig.defaults().withFileRoots(file));
        assertTrue(e.getMessage().startsWith("Invalid value " + file + " for fileRoots: is not a directory"),
                e.getMessage());
    }

    @Test
    void hostsAreNormalisedAndValidated() {
        FetchConfig config = FetchConfig.defaults().withAllowedHosts("Images.Example.COM", "cdn.example.com:8443",
                "127.0.0.1", "[::1]:8080");
        assertEquals(Set.of("images.example.com", "cdn.example.com:8443", "127.0.0.1", "[::1]:8080"),
                config.allowedHosts());
        assertTrue(config.allowsHost("IMAGES.example.com", 443));
        assertTrue(config.allowsHost("cdn.example.com", 8443));
        assertTrue(!config.allowsHost("cdn.example.com", 443));
        assertTrue(config.allowsHost("[::1]", 8080));

        for (String bad : new String[] {"http://example.com", "example.com/images", "user@example.com", "*.example.com",
                "example.com:0", "example.com:65536", "example.com:http", "::1", "", "a..b", "-a.com"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> FetchConfig.defaults().withAllowedHosts(bad), bad);
            assertTrue(e.getMessage().startsWith("Invalid value " + bad + " for allowedHosts: "), e.getMessage());
        }
    }

    @Test
    void internalAddressesNeedTheAddressOrLocalhostListed() throws UnknownHostException {
        FetchConfig config = FetchConfig.defaults().withAllowedHosts("images.example.com", "127.0.0.1:8080", "[::1]",
                "localhost:9000", "169.254.169.254");
        InetAddress loopback = InetAddress.getByName("127.0.0.1");
        // A listed name leads to public (and private) addresses, never to loopback or link-local ones.
        assertNull(config.refusesAddress("images.example.com", 443, InetAddress.getByName("93.184.216.34")));
        assertNull(config.refusesAddress("images.example.com", 443, InetAddress.getByName("10.1.2.3")));
        assertEquals("host images.example.com resolves to loopback address 127.0.0.1, which only that address as an"
                + " IP literal in allowedHosts allows", config.refusesAddress("images.example.com", 443, loopback));
        // The literal itself is listed, for that port only.
        assertNull(config.refusesAddress("127.0.0.1", 8080, loopback));
        assertNotNull(config.refusesAddress("127.0.0.1", 8081, loopback));
        // Compared as addresses, not as text: [::1] is 0:0:0:0:0:0:0:1.
        assertNull(config.refusesAddress("[0:0:0:0:0:0:0:1]", 80, InetAddress.getByName("::1")));
        // localhost on the list may be what it is.
        assertNull(config.refusesAddress("localhost", 9000, loopback));
        assertNull(config.refusesAddress("LocalHost", 9000, InetAddress.getByName("::1")));
        // The metadata address is reachable only because it is listed as a literal; then from any allowed name.
        InetAddress metadata = InetAddress.getByName("169.254.169.254");
        assertNull(config.refusesAddress("169.254.169.254", 80, metadata));
        assertNull(config.refusesAddress("images.example.com", 80, metadata));
        assertEquals("host images.example.com resolves to link-local address 169.254.169.254, which only that address"
                + " as an IP literal in allowedHosts allows", FetchConfig.defaults().withAllowedHosts("images.example.com")
                .refusesAddress("images.example.com", 80, metadata));
    }

    @Test
    void internalKinds() throws UnknownHostException {
        assertEquals("loopback", FetchConfig.internalKind(InetAddress.getByName("127.255.0.1")));
        assertEquals("link-local", FetchConfig.internalKind(InetAddress.getByName("fe80::1234")));
        assertEquals("any-local", FetchConfig.internalKind(InetAddress.getByName("0.0.0.7")));
        assertEquals("multicast", FetchConfig.internalKind(InetAddress.getByName("239.1.2.3")));
        assertEquals("loopback", FetchConfig.internalKind(InetAddress.getByName("::ffff:127.0.0.1")));
        assertEquals("link-local", FetchConfig.internalKind(InetAddress.getByName("::169.254.169.254")));
        assertNull(FetchConfig.internalKind(InetAddress.getByName("2001:db8::1")));
        assertNull(FetchConfig.internalKind(InetAddress.getByName("192.168.1.1")));
    }

    @Test
    void ipLiteralsMustBeValid() {
        for (String bad : new String[] {"999.1.1.1", "[1::2::3]"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> FetchConfig.defaults().withAllowedHosts(bad), bad);
            assertTrue(e.getMessage().startsWith("Invalid value " + bad + " for allowedHosts: not a valid IPv"),
                    e.getMessage());
        }
    }

    @Test
    void limitsMustBePositive() {
        assertThrows(IllegalArgumentException.class, () -> FetchConfig.defaults().withMaxImageBytes(0));
        assertThrows(IllegalArgumentException.class, () -> FetchConfig.defaults().withConnectTimeoutMs(0));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> FetchConfig.defaults().withReadTimeoutMs(-5));
        assertEquals("Invalid value -5 for readTimeoutMs: must be positive", e.getMessage());
        assertEquals(4, FetchConfig.defaults().withFileReaderThreads(4).fileReaderThreads());
        e = assertThrows(IllegalArgumentException.class, () -> FetchConfig.defaults().withFileReaderThreads(0));
        assertEquals("Invalid value 0 for fileReaderThreads: must be between 1 and 1024", e.getMessage());
    }

    @Test
    void withersLeaveTheOriginalUnchanged() {
        FetchConfig defaults = FetchConfig.defaults();
        FetchConfig changed = defaults.withMaxImageBytes(1024).withAllowedHosts("example.com");
        assertEquals(1024, changed.maxImageBytes());
        assertEquals(FetchConfig.DEFAULT_MAX_IMAGE_BYTES, defaults.maxImageBytes());
        assertEquals(Set.of(), defaults.allowedHosts());
        assertThrows(UnsupportedOperationException.class, () -> changed.allowedHosts().add("evil.example"));
    }
}
