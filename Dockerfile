# judgepanel container image: the `judgepanel` CLI on PATH, for deploy/kubernetes and deploy/slurm (Apptainer).
#
#   docker build -t judgepanel:0.1.0 .
#   docker run --rm -e OPENAI_API_KEY -v "$PWD:/work" -w /work judgepanel:0.1.0 score items.jsonl --rubric r.yaml --panel p.yaml
#
# Stage 1 builds a release binary with the Swift standard library and Foundation linked in statically
# (--static-swift-stdlib); stage 2 is a slim Ubuntu with CA certificates (HTTPS to the providers) and libcurl (which
# the statically linked FoundationNetworking still loads), running as a non-root user. The binary needs no Swift
# runtime: `docker create` + `docker cp` it out for clusters without Swift (README, "Docker image and static binary").
ARG SWIFT_IMAGE=swift:6.3-noble
ARG RUNTIME_IMAGE=ubuntu:24.04

FROM ${SWIFT_IMAGE} AS build
WORKDIR /src
COPY . .
RUN swift build -c release --static-swift-stdlib --product judgepanel \
    && install -D -m 0755 "$(swift build -c release --static-swift-stdlib --show-bin-path)/judgepanel" /out/judgepanel

FROM ${RUNTIME_IMAGE}
# Distribution packages are left unpinned on purpose: the image takes the release's security updates when rebuilt.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates libcurl4t64 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --create-home --home-dir /home/judgepanel judgepanel
COPY --from=build /out/judgepanel /usr/local/bin/judgepanel
USER 10001:10001
ENV JUDGEPANEL_HOME=/home/judgepanel/.judgepanel
WORKDIR /home/judgepanel
ENTRYPOINT ["judgepanel"]
CMD ["--help"]
