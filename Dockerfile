# The worker image for ops/kubernetes. Built by you, not by CI (it needs Maven Central and a base-image registry):
#
#   ./fleet model generate resnet50              # or put a PaddleClas export in models/<name>
#   docker build -t registry.example.com/inference-fleet:0.1.0 --build-arg MODEL=resnet50 .
#
# The image holds the packaged CLI (fleet.jar, lib/), jvm.options and one model; `docker run IMAGE worker --help`.

# Build: JDK 17, Maven and g++ (the Paddle JNI shim is compiled against the Paddle jar from Maven Central).
FROM maven:3.9-eclipse-temurin-17 AS build
RUN apt-get update && apt-get install -y --no-install-recommends g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN mvn -q -DskipTests package -pl ops -am

# Run: the same distribution as the build stage, so that the shim finds the libstdc++ it was built against.
FROM eclipse-temurin:17-jre
ARG MODEL=resnet50
RUN groupadd --system --gid 10001 fleet && useradd --system --uid 10001 --gid fleet --no-create-home fleet
WORKDIR /opt/inference-fleet
COPY --from=build /src/ops/target/fleet.jar ./fleet.jar
COPY --from=build /src/ops/target/lib/ ./lib/
COPY --from=build /src/jvm.options ./jvm.options
COPY models/${MODEL}/ ./models/${MODEL}/
# Paddle's and OpenCV's native libraries are extracted at start; in Kubernetes /tmp is an emptyDir.
ENV XDG_CACHE_HOME=/tmp/cache
USER 10001:10001
EXPOSE 9400
ENTRYPOINT ["java", "@/opt/inference-fleet/jvm.options", "-Dfleet.home=/opt/inference-fleet", "-jar", "/opt/inference-fleet/fleet.jar"]
CMD ["worker", "--help"]
