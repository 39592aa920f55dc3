# nats-server built from its Go module (static, CGO off) by build-server-images.sh, which lays
# out the context: the binary plus rootfs/ (passwd/group with nobody, /tmp 1777 for `-js`
# without a store_dir). FROM scratch so the legacy builder needs no base image.
FROM scratch
COPY rootfs/ /
COPY nats-server /nats-server
USER 65534:65534
EXPOSE 4222 6222 8222
ENTRYPOINT ["/nats-server"]
# like the upstream image's config: monitoring on 8222 (the stack passes its own args)
CMD ["-m", "8222"]
