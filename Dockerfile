# One image for api, worker and beat; the compose file gives each its command.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
# The 督办单/通报/分工方案 PDFs: WeasyPrint lays them out with pango and finds the CJK fonts through fontconfig.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fontconfig fonts-noto-cjk \
    && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml README.md ./
COPY duban ./duban
COPY examples ./examples
RUN pip install --no-cache-dir .
EXPOSE 8000
CMD ["duban", "run", "--no-worker"]
