# Prometheus + promtool built from the github.com/prometheus/prometheus module by
# build-server-images.sh (no web UI assets: the API, /metrics and /-/ready work). Laid out
# like prom/prometheus: /bin/prometheus, /etc/prometheus/prometheus.yml, data in /prometheus.
FROM scratch
COPY rootfs/ /
COPY prometheus promtool /bin/
COPY prometheus.yml /etc/prometheus/prometheus.yml
COPY console_libraries/ /usr/share/prometheus/console_libraries/
COPY consoles/ /usr/share/prometheus/consoles/
# the TSDB dir must be writable by the runtime user when no volume is mounted there
COPY --chown=65534:65534 data/ /prometheus/
USER 65534:65534
EXPOSE 9090
WORKDIR /prometheus
ENTRYPOINT ["/bin/prometheus"]
CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus", "--web.console.libraries=/usr/share/prometheus/console_libraries", "--web.console.templates=/usr/share/prometheus/consoles"]
