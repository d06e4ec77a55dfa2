package io.inferencefleet.benchmarks.peer;

import ai.djl.inference.Predictor;
import ai.djl.modality.Classifications;
import ai.djl.modality.cv.Image;
import ai.djl.modality.cv.ImageFactory;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.translate.TranslateException;
import io.inferencefleet.messages.ErrorCode;
import io.inferencefleet.messages.InferenceRequest;
import io.inferencefleet.messages.InferenceResult;
import io.inferencefleet.messages.InferenceResult.ErrorInfo;
import io.inferencefleet.messages.InferenceResult.ModelRef;
import io.inferencefleet.messages.InferenceResult.Prediction;
import io.inferencefleet.messages.InferenceResult.Source;
import io.inferencefleet.messages.InferenceResult.Status;
import io.inferencefleet.messages.InferenceResult.Timings;
import io.inferencefleet.messages.MessageCodec;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Turns one request record into exactly one result: read the {@code file://} image under the file
 * root, decode it with DJL's {@link ImageFactory}, run this thread's DJL {@link Predictor}, and take
 * the top k. Every failure becomes an ERROR result with a code; nothing is thrown. Thread-safe: each
 * calling thread gets its own predictor (DJL predictors are not thread-safe; for Paddle each is a
 * {@code Clone()} of the model's predictor, sharing the weights).
 */
final class RequestHandler implements AutoCloseable {
    static final String BAD_REQUEST = ErrorCode.BAD_REQUEST.code();
    static final String FORBIDDEN_URI = "forbidden_uri";
    static final String NOT_FOUND = "not_found";
    static final String TOO_LARGE = "too_large";
    static final String DECODE_FAILED = "decode_failed";
    static final String MODEL_ERROR = "model_error";
    static final String INTERNAL_ERROR = "internal_error";
    static final long MAX_FILE_BYTES = 64L << 20;
    private static final int DEFAULT_TOP_K = 5;

    private final MessageCodec codec;
    private final ZooModel<Image, Classifications> model;
    private final ImageNetTranslator translator;
    private final Path fileRoot;
    private final String workerId;
    private final ModelRef modelRef;
    private final Queue<Predictor<Image, Classifications>> predictors = new ConcurrentLinkedQueue<>();
    private final ThreadLocal<Predictor<Image, Classifications>> predictor;

    RequestHandler(MessageCodec codec, ZooModel<Image, Classifications> model, ImageNetTranslator translator,
                   PeerSettings settings) {
        this.codec = codec;
        this.model = model;
        this.translator = translator;
        this.fileRoot = settings.fileRoot();
        this.workerId = settings.workerId();
        this.modelRef = new ModelRef(settings.modelDir().getFileName().toString(), null);
        this.predictor = ThreadLocal.withInitial(() -> {
            Predictor<Image, Classifications> p = this.model.newPredictor();
            predictors.add(p);
            return p;
        });
    }

    /** Creates the calling thread's predictor now, so that its first request does not pay for it. */
    void createPredictor() {
        predictor.get();
    }

    /** The result for {@code record}; {@code polledNs} is when the consumer received it. Never throws. */
    InferenceResult handle(ConsumerRecord<byte[], byte[]> record, long polledNs) {
        long start = System.nanoTime();
        Source source = new Source(record.topic(), record.partition(), record.offset());
        MessageCodec.DecodedRequest decoded = codec.decodeRequest(record.value());
        if (!decoded.ok()) {
            String id = decoded.id() != null ? decoded.id()
                    : "unknown@" + record.topic() + "-" + record.partition() + ":" + record.offset();
            return error(id, Map.of(), source, BAD_REQUEST, decoded.error(), polledNs, start, null, null);
        }
        InferenceRequest request = decoded.request();
        Double fetchMs = null;
        Double preprocessMs = null;
        try {
            byte[] bytes = read(resolve(request.imageUri()));
            long fetched = System.nanoTime();
            fetchMs = ms(fetched - start);
            Image image;
            try {
                image = ImageFactory.getInstance().fromInputStream(new ByteArrayInputStream(bytes));
            } catch (IOException | RuntimeException e) {
                throw new Failure(DECODE_FAILED, "cannot decode " + request.imageUri() + ": " + e.getMessage());
            }
            long imageDecoded = System.nanoTime();
            Predictor<Image, Classifications> p = predictor.get();
            Classifications classifications;
            try {
                classifications = p.predict(image);
            } catch (TranslateException e) {
                throw new Failure(MODEL_ERROR, "prediction failed: " + rootCause(e));
            }
            long predicted = System.nanoTime();
            // predict() ran the translator's pre-processing as well; count that as pre-processing.
            long inputNs = translator.lastPreprocessNanos();
            preprocessMs = ms(imageDecoded - fetched + inputNs);
            double inferenceMs = ms(predicted - imageDecoded - inputNs);
            int k = request.topKIfSet().orElse(DEFAULT_TOP_K);
            List<Prediction> predictions = new ArrayList<>(k);
            for (Classifications.Classification c : classifications.topK(k)) {
                predictions.add(new Prediction(Integer.parseInt(c.getClassName()), (float) c.getProbability(), null));
            }
            return new InferenceResult(request.id(), Status.OK, modelRef, predictions,
                    new Timings(ms(start - polledNs), fetchMs, preprocessMs, inferenceMs, ms(System.nanoTime() - polledNs)),
                    workerId, source, null, request.attributes());
        } catch (Failure f) {
            return error(request.id(), request.attributes(), source, f.code, f.getMessage(), polledNs, start, fetchMs,
                    preprocessMs);
        } catch (RuntimeException e) {
            return error(request.id(), request.attributes(), source, INTERNAL_ERROR, e.toString(), polledNs, start,
                    fetchMs, preprocessMs);
        }
    }

    /** Only {@code file://} URIs of files under the file root. */
    private Path resolve(String uri) throws Failure {
        URI parsed;
        try {
            parsed = new URI(uri);
        } catch (URISyntaxException e) {
            throw new Failure(BAD_REQUEST, "imageUri is not a URI: " + e.getMessage());
        }
        if (!"file".equalsIgnoreCase(parsed.getScheme())) {
            throw new Failure(FORBIDDEN_URI, "only file:// URIs are served, not " + uri);
        }
        Path path;
        try {
            path = Path.of(parsed).normalize();
        } catch (IllegalArgumentException e) {
            throw new Failure(FORBIDDEN_URI, "unusable file URI " + uri + ": " + e.getMessage());
        }
        if (!path.startsWith(fileRoot)) {
            throw new Failure(FORBIDDEN_URI, uri + " is outside the file root " + fileRoot);
        }
        try {
            Path real = path.toRealPath();
            if (!real.startsWith(fileRoot)) {
                throw new Failure(FORBIDDEN_URI, uri + " leads outside the file root " + fileRoot);
            }
            return real;
        } catch (NoSuchFileException e) {
            throw new Failure(NOT_FOUND, "no such file: " + path);
        } catch (IOException e) {
            throw new Failure(NOT_FOUND, "cannot access " + path + ": " + e.getMessage());
        }
    }

    private static byte[] read(Path path) throws Failure {
        try {
            if (!Files.isRegularFile(path)) {
                throw new Failure(NOT_FOUND, "not a regular file: " + path);
            }
            long size = Files.size(path);
            if (size > MAX_FILE_BYTES) {
                throw new Failure(TOO_LARGE, path + " has " + size + " bytes, at most " + MAX_FILE_BYTES + " allowed");
            }
            return Files.readAllBytes(path);
        } catch (NoSuchFileException e) {
            throw new Failure(NOT_FOUND, "no such file: " + path);
        } catch (IOException e) {
            throw new Failure(NOT_FOUND, "cannot read " + path + ": " + e.getMessage());
        }
    }

    private InferenceResult error(String id, Map<String, String> attributes, Source source, String code, String message,
                                  long polledNs, long start, Double fetchMs, Double preprocessMs) {
        return new InferenceResult(id, Status.ERROR, modelRef, List.of(),
                new Timings(ms(start - polledNs), fetchMs, preprocessMs, null, ms(System.nanoTime() - polledNs)),
                workerId, source, new ErrorInfo(code, message), attributes);
    }

    private static double ms(long nanos) {
        return nanos / 1e6;
    }

    private static String rootCause(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.toString();
    }

    /** Closes every predictor the worker threads created; call after those threads have stopped. */
    @Override
    public void close() {
        Predictor<Image, Classifications> p;
        while ((p = predictors.poll()) != null) {
            p.close();
        }
    }

    /** An expected failure of one request: becomes an ERROR result with {@link #code}. */
    private static final class Failure extends Exception {
        private static final long serialVersionUID = 1L;
        final String code;

        Failure(String code, String message) {
            super(message, null, false, false);
            this.code = code;
        }
    }
}
