package io.inferencefleet.paddle.model;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The two files of a Paddle inference model: the program ({@code .pdmodel}) and the combined
 * parameters ({@code .pdiparams}).
 *
 * <pre>{@code
 * ModelFiles files = ModelFiles.inDirectory(Path.of("models/resnet50"));
 * ModelInfo model = ModelReader.read(files.modelFile());
 * ParamsFile.validate(files.paramsFile(), model);
 * }</pre>
 */
public record ModelFiles(Path modelFile, Path paramsFile) {

    /** The PaddleClas export's preprocessing description, looked for beside the model file. */
    public static final String INFERENCE_CONFIG_NAME = "inference.yml";

    private static final String MODEL_SUFFIX = ".pdmodel";
    private static final String PARAMS_SUFFIX = ".pdiparams";
    /** Stems tried in order before falling back to "the only *.pdmodel in the directory". */
    private static final List<String> CONVENTIONAL_STEMS = List.of("inference", "model");

    public ModelFiles {
        Objects.requireNonNull(modelFile, "modelFile");
        Objects.requireNonNull(paramsFile, "paramsFile");
    }

    /**
     * Finds the model in {@code dir}: {@code inference.pdmodel}+{@code inference.pdiparams}
     * (PaddleClas export), else {@code model.pdmodel}+{@code model.pdiparams}, else the single
     * {@code *.pdmodel} with a {@code .pdiparams} of the same stem.
     *
     * @throws InvalidModelException naming everything that was looked for when nothing fits
     */
    public static ModelFiles inDirectory(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new InvalidModelException(dir, "not a directory");
        }
        for (String stem : CONVENTIONAL_STEMS) {
            Path model = dir.resolve(stem + MODEL_SUFFIX);
            if (Files.isRegularFile(model)) {
                return withParams(dir, model, stem);
            }
        }
        List<Path> models = listModels(dir);
        if (models.size() == 1) {
            Path model = models.get(0);
            String name = model.getFileName().toString();
            return withParams(dir, model, name.substring(0, name.length() - MODEL_SUFFIX.length()));
        }
        String lookedFor = "looked for inference.pdmodel, model.pdmodel, or exactly one *.pdmodel";
        if (models.isEmpty()) {
            throw new InvalidModelException(dir, "no model file found (" + lookedFor + ")");
        }
        throw new InvalidModelException(dir, "ambiguous model: " + models.size() + " *.pdmodel files "
                + fileNames(models) + " (" + lookedFor + ")");
    }

    /** {@code inference.yml} beside the model file, if there is one. */
    public Optional<Path> inferenceConfig() {
        Path parent = modelFile.toAbsolutePath().getParent();
        Path config = parent.resolve(INFERENCE_CONFIG_NAME);
        return Files.isRegularFile(config) ? Optional.of(config) : Optional.empty();
    }

    private static ModelFiles withParams(Path dir, Path model, String stem) {
        Path params = dir.resolve(stem + PARAMS_SUFFIX);
        if (!Files.isRegularFile(params)) {
            throw new InvalidModelException(dir, "found " + model.getFileName() + " but not its parameters file "
                    + params.getFileName());
        }
        return new ModelFiles(model, params);
    }

    private static List<Path> listModels(Path dir) {
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.filter(p -> p.getFileName().toString().endsWith(MODEL_SUFFIX))
                    .filter(Files::isRegularFile)
                    .sorted()
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot list " + dir, e);
        }
    }

    private static List<String> fileNames(List<Path> paths) {
        List<String> names = new ArrayList<>();
        paths.forEach(p -> names.add(p.getFileName().toString()));
        return names;
    }
}
