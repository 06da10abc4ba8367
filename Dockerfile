# syntax=docker/dockerfile:1
# One image for every node role and for the client (docs/deployment.md):
#   docker build -t actors:local .
#   docker run --rm actors:local --help
# Build stage: the .NET SDK on Debian 12, the system this project is built and tested on. The build patches
# TorchSharp's native library for Debian 12's libstdc++ (Directory.Build.targets, docs/torchsharp-on-debian12.md);
# the patch runs on publish, because this stage's libstdc++ lacks GLIBCXX_3.4.32 as the runtime stage's does.
ARG DOTNET_VERSION=10.0

FROM mcr.microsoft.com/dotnet/sdk:${DOTNET_VERSION} AS sdk

FROM debian:bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates libstdc++6 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=sdk /usr/share/dotnet /usr/share/dotnet
ENV PATH=/usr/share/dotnet:$PATH DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_ROOT=/usr/share/dotnet
WORKDIR /src
# Restore first (cached while only sources change).
COPY global.json Directory.Build.props Directory.Build.targets Directory.Packages.props ./
COPY build/ build/
COPY src/Actors.Learning/Actors.Learning.csproj src/Actors.Learning/
COPY src/Actors.Runtime/Actors.Runtime.csproj src/Actors.Runtime/
COPY src/Actors.Cli/Actors.Cli.csproj src/Actors.Cli/
RUN dotnet restore src/Actors.Cli/Actors.Cli.csproj -r linux-x64
COPY src/ src/
COPY cluster-config/ cluster-config/
RUN dotnet publish src/Actors.Cli/Actors.Cli.csproj -c Release -r linux-x64 --self-contained true --no-restore -o /opt/actors

# Runtime stage: Debian 12, Fashion-MNIST from its Debian package, a non-root user.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates libstdc++6 libgomp1 dataset-fashion-mnist \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --create-home --home-dir /home/actors actors
COPY --from=build /opt/actors /opt/actors
COPY deploy/docker/entrypoint.sh /usr/local/bin/actors-entrypoint
# The node's ports (cluster-config/akka.hocon): Akka remoting, the bulk tensor side channel, the management endpoint
# (/alive, /ready, cluster bootstrap). Bind everywhere; advertise the container's address (entrypoint).
ENV PATH=/opt/actors:$PATH \
    ACTORS_CONFIG_DIR=/opt/actors/cluster-config \
    ACTORS_HOST=0.0.0.0 \
    ACTORS_PORT=4053 \
    ACTORS_TRANSPORT_PORT=4054 \
    ACTORS_MANAGEMENT_PORT=8558 \
    ACTORS_TORCH_THREADS=1
EXPOSE 4053 4054 8558
USER actors
WORKDIR /home/actors
ENTRYPOINT ["/usr/local/bin/actors-entrypoint"]
CMD ["node", "--roles", "worker"]
