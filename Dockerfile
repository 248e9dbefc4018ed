# Order Records service image: `docker compose up` runs it with MongoDB (see compose.yaml).
FROM python:3.11-slim

WORKDIR /srv/order-records
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    ORDER_RECORDS_CONFIG=/srv/order-records/config/default.toml \
    ORDER_RECORDS_SERVER_HOST=0.0.0.0 \
    ORDER_RECORDS_SQLITE_PATH=/data/orderrecords.sqlite3

COPY pyproject.toml README.md ./
COPY app ./app
COPY scripts ./scripts
COPY config ./config
RUN pip install --no-cache-dir . && useradd --system --uid 10001 orderrecords \
    && mkdir -p /data && chown orderrecords /data
USER orderrecords
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8080/ready').status != 200)"
CMD ["python", "-m", "app"]
