# Builds the flink-hub image: the hub operator (the entrypoint) and the
# kubectl plugin (/kubectl-flinkhub), both static, on an empty base, run as
# a non-root user. The chart's default image is flink-hub:<appVersion of
# deploy/charts/flink-hub/Chart.yaml>, which `make image` builds:
#
#   docker build --build-arg VERSION=0.1.0 -t flink-hub:0.1.0 .
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=0.1.0
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/flink-hub ./cmd/flink-hub
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/kubectl-flinkhub ./cmd/kubectl-flinkhub

FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/flink-hub /flink-hub
COPY --from=build /out/kubectl-flinkhub /kubectl-flinkhub
USER 65532:65532
ENTRYPOINT ["/flink-hub"]
