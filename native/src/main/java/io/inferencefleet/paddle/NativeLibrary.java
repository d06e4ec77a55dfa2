package io.inferencefleet.paddle;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads our JNI shim and, through its {@code DT_RPATH=$ORIGIN}, the three Paddle libraries beside
 * it. No {@code LD_LIBRARY_PATH} is needed.
 *
 * <p>Where it looks, in order:
 * <ol>
 *   <li>the directory named by system property {@value #LIB_DIR_PROPERTY} or environment variable
 *       {@value #LIB_DIR_ENV} (a user's own build of the shim and Paddle libraries);
 *   <li>the libraries packaged in this jar, extracted once into a versioned cache directory
 *       ({@value #CACHE_DIR_PROPERTY}, else {@code $XDG_CACHE_HOME} or {@code ~/.cache}, then
 *       {@code inference-fleet/native/paddle-<version>-<hash of our libraries>}), falling back to the temp
 *       directory when that is not writable. Files are written to a temporary name and moved into
 *       place, so concurrent first starts of several workers never see a half-written library.
 * </ol>
 * A failure lists every location tried and why each failed.
 */
final class NativeLibrary {
    static final String LIB_DIR_PROPERTY = "fleet.paddle.libDir";
    static final String LIB_DIR_ENV = "FLEET_PADDLE_LIB_DIR";
    static final String CACHE_DIR_PROPERTY = "fleet.native.cacheDir";
    static final String SHIM = "libfleet_paddle_jni.so";
    /** Sets environment defaults for Paddle's OpenBLAS and glog; must load before the shim. */
    static final String ENV_PRELOAD = "libfleet_paddle_env.so";

    private static final String RESOURCE_DIR = "/io/inferencefleet/paddle/native/linux-x86_64/";
    private static final Logger LOG = LoggerFactory.getLogger(NativeLibrary.class);

    private static String paddleVersion;
    private static String environmentApplied = "";

    private NativeLibrary() {}

    /** Loads the libraries once per JVM and returns Paddle's version string. */
    static synchronized String ensureLoaded() {
        if (paddleVersion == null) {
            long start = System.nanoTime();
            Path loadedFrom = load();
            paddleVersion = PaddleNative.initialize().trim();
            LOG.info("event=paddle_loaded dir={} ms={} env_defaults=\"{}\" version=\"{}\"", loadedFrom,
                    (System.nanoTime() - start) / 1_000_000, environmentApplied,
                    paddleVersion.replace('\n', ' '));
        }
        return paddleVersion;
    }

    private static Path load() {
        String os = System.getProperty("os.name").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch");
        if (!os.contains("linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
            throw new UnsatisfiedLinkError("Paddle Inference is packaged for linux-x86_64 only, this is "
                    + os + "/" + arch);
        }
        List<String> tried = new ArrayList<>();
        String override = System.getProperty(LIB_DIR_PROPERTY, System.getenv(LIB_DIR_ENV));
        if (override != null && !override.isBlank()) {
            Path dir = Paths.get(override);
            if (tryLoad(dir, "override (" + LIB_DIR_PROPERTY + " / " + LIB_DIR_ENV + ")", tried)) {
                return dir;
            }
            throw failure(tried);
        }
        Properties manifest = packagedManifest(tried);
        if (manifest != null) {
            String dirName = "paddle-" + manifest.getProperty("paddle.version") + "-"
                    + manifest.getProperty("native.sha256").substring(0, 12);
            for (Path root : cacheRoots()) {
                Path dir = root.resolve(dirName);
                try {
                    extract(manifest.getProperty("libraries").split(","), dir);
                } catch (IOException | RuntimeException e) {
                    tried.add(dir + ": cannot extract packaged libraries: " + e);
                    continue;
                }
                if (tryLoad(dir, "packaged, extracted", tried)) {
                    return dir;
                }
            }
        }
        throw failure(tried);
    }

    private static boolean tryLoad(Path dir, String what, List<String> tried) {
        Path shim = dir.resolve(SHIM).toAbsolutePath();
        if (!Files.isRegularFile(shim)) {
            tried.add(shim + " [" + what + "]: no such file");
            return false;
        }
        try {
            Path preload = dir.resolve(ENV_PRELOAD).toAbsolutePath();
            if (Files.isRegularFile(preload)) {
                System.load(preload.toString());
                environmentApplied = PaddleNative.prepareEnvironment();
            } else {
                LOG.warn("event=paddle_env_preload_missing path={} effect=\"OpenBLAS and glog use their own defaults\"",
                        preload);
            }
            System.load(shim.toString());
            return true;
        } catch (UnsatisfiedLinkError e) {
            tried.add(shim + " [" + what + "]: " + e.getMessage());
            return false;
        }
    }

    private static Properties packagedManifest(List<String> tried) {
        try (InputStream in = NativeLibrary.class.getResourceAsStream(RESOURCE_DIR + "native.properties")) {
            if (in == null) {
                tried.add("classpath " + RESOURCE_DIR + ": not packaged (is the native jar built?)");
                return null;
            }
            Properties properties = new Properties();
            properties.load(in);
            return properties;
        } catch (IOException e) {
            tried.add("classpath " + RESOURCE_DIR + "native.properties: " + e);
            return null;
        }
    }

    private static List<Path> cacheRoots() {
        List<Path> roots = new ArrayList<>();
        String configured = System.getProperty(CACHE_DIR_PROPERTY);
        if (configured != null && !configured.isBlank()) {
            roots.add(Paths.get(configured));
        } else {
            String xdg = System.getenv("XDG_CACHE_HOME");
            Path base = xdg != null && !xdg.isBlank()
                    ? Paths.get(xdg) : Paths.get(System.getProperty("user.home"), ".cache");
            roots.add(base.resolve("inference-fleet").resolve("native"));
        }
        roots.add(Paths.get(System.getProperty("java.io.tmpdir"),
                "inference-fleet-native-" + System.getProperty("user.name")));
        return roots;
    }

    private static void extract(String[] libraries, Path dir) throws IOException {
        Files.createDirectories(dir);
        for (String library : libraries) {
            Path target = dir.resolve(library);
            long packagedSize = packagedSize(library);
            if (Files.isRegularFile(target) && Files.size(target) == packagedSize) {
                continue;  // the directory name carries version and hash; the size guards truncation
            }
            Path temp = Files.createTempFile(dir, library, ".part");
            try (InputStream in = NativeLibrary.class.getResourceAsStream(RESOURCE_DIR + library)) {
                if (in == null) {
                    throw new IOException("packaged library " + library + " missing from the jar");
                }
                Files.copy(in, temp, StandardCopyOption.REPLACE_EXISTING);
                try {
                    Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
                }
            } finally {
                Files.deleteIfExists(temp);
            }
        }
    }

    private static long packagedSize(String library) throws IOException {
        var url = NativeLibrary.class.getResource(RESOURCE_DIR + library);
        if (url == null) {
            throw new IOException("packaged library " + library + " missing from the jar");
        }
        return url.openConnection().getContentLengthLong();
    }

    private static UnsatisfiedLinkError failure(List<String> tried) {
        return new UnsatisfiedLinkError("Could not load the Paddle JNI shim " + SHIM
                + ". Tried:\n  " + String.join("\n  ", tried));
    }
}
