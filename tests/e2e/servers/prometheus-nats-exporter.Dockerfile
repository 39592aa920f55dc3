# prometheus-nats-exporter built from its Go module by build-server-images.sh; FROM scratch.
FROM scratch
COPY rootfs/ /
COPY prometheus-nats-exporter /prometheus-nats-exporter
USER 65534:65534
EXPOSE 7777
ENTRYPOINT ["/prometheus-nats-exporter"]
