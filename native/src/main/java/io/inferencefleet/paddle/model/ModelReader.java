package io.inferencefleet.paddle.model;

import com.google.protobuf.InvalidProtocolBufferException;
import io.inferencefleet.paddle.model.proto.FrameworkProto.ProgramDesc;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reads and validates a {@code .pdmodel} file. Anything that is not a well-formed inference program
 * is rejected with an {@link InvalidModelException} here, because Paddle 2.3.2 crashes the whole
 * process on garbage or text model files instead of reporting an error.
 */
public final class ModelReader {
    /**
     * Programs are kilobytes to a few megabytes (weights live in the params file); anything this
     * large is not a model program, and refusing early avoids reading it into memory.
     */
    public static final long MAX_MODEL_BYTES = 256L * 1024 * 1024;

    private ModelReader() {
    }

    /**
     * Reads, parses and validates {@code pdmodel}.
     *
     * @throws InvalidModelException if the file is missing, empty, too large, not a ProgramDesc, or
     *                               not a usable inference program
     */
    public static ModelInfo read(Path pdmodel) {
        if (!Files.isRegularFile(pdmodel)) {
            throw new InvalidModelException(pdmodel, "model file does not exist or is not a regular file");
        }
        byte[] bytes;
        try {
            long size = Files.size(pdmodel);
            if (size == 0) {
                throw new InvalidModelException(pdmodel, "model file is empty");
            }
            if (size > MAX_MODEL_BYTES) {
                throw new InvalidModelException(pdmodel, "model file is " + size + " bytes, more than the "
                        + MAX_MODEL_BYTES + " a program can plausibly be (is it a params file?)");
            }
            bytes = Files.readAllBytes(pdmodel);
        } catch (IOException e) {
            throw new InvalidModelException(pdmodel, "cannot read model file: " + e.getMessage(), e);
        }
        return parse(bytes, pdmodel);
    }

    /** Parses and validates program bytes; {@code source} only names them in error messages. */
    public static ModelInfo parse(byte[] bytes, Path source) {
        if (bytes.length == 0) {
            throw new InvalidModelException(source, "model file is empty");
        }
        ProgramDesc program;
        try {
            program = ProgramDesc.parseFrom(bytes);
        } catch (InvalidProtocolBufferException e) {
            throw new InvalidModelException(source, "not a Paddle ProgramDesc (protobuf parsing failed: "
                    + e.getMessage() + ")", e);
        }
        return validate(program, source);
    }

    /** Validates an in-memory program, e.g. one just built, exactly as {@link #read} would. */
    public static ModelInfo validate(ProgramDesc program, Path source) {
        return new ProgramValidator(program, source).validate();
    }
}
