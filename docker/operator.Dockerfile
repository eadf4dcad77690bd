# The Hearth operator image. Build from the repository root after `./mvnw -DskipTests package`:
#   docker build -f docker/operator.Dockerfile -t hearth/operator:0.1.0 .
# It copies only build outputs (operator/target/hearth-operator.jar and the jars in
# operator/target/lib/ that its manifest's Class-Path names). DockerfileInputsIT checks that the
# build produces every file COPY names.
ARG BASE_IMAGE=eclipse-temurin:25-jre-noble
FROM ${BASE_IMAGE}

# No shell tools are needed at run time; the operator talks only to the API server.
WORKDIR /opt/hearth
COPY operator/target/lib/ /opt/hearth/lib/
COPY operator/target/hearth-operator.jar /opt/hearth/hearth-operator.jar

# A fixed non-root user, matching the chart's runAsUser.
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["java", "-jar", "/opt/hearth/hearth-operator.jar"]
