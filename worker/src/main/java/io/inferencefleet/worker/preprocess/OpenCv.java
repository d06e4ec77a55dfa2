package io.inferencefleet.worker.preprocess;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Loads OpenCV's native library (from the org.openpnp:opencv jar) once per JVM. */
final class OpenCv {
    private static final Logger LOG = LoggerFactory.getLogger(OpenCv.class);
    private static boolean loaded;

    private OpenCv() {}

    static synchronized void ensureLoaded() {
        if (!loaded) {
            long start = System.nanoTime();
            nu.pattern.OpenCV.loadLocally();
            loaded = true;
            LOG.info("event=opencv_loaded version={} ms={}", org.opencv.core.Core.VERSION,
                    (System.nanoTime() - start) / 1_000_000);
        }
    }
}
