# claw in a container: `docker build -t claw . && docker run -p 8750:8750 -v claw-data:/data claw`
FROM python:3.11-slim

RUN useradd --create-home --uid 10001 claw && mkdir -p /data && chown claw:claw /data
WORKDIR /app
COPY pyproject.toml README.md config.example.toml ./
COPY claw ./claw
COPY memory ./memory
COPY skills ./skills
RUN pip install --no-cache-dir .

USER claw
ENV CLAW_HOME=/data PYTHONUNBUFFERED=1
VOLUME ["/data"]
EXPOSE 8750
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8750/healthz', timeout=4).status == 200 else 1)"
# Inside a container the port must be published, so bind all interfaces; the API still needs the token.
CMD ["claw", "serve", "--host", "0.0.0.0", "--port", "8750"]
