# One image for api, worker and beat; the compose file gives each its command.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY duban ./duban
COPY examples ./examples
RUN pip install --no-cache-dir .
EXPOSE 8000
CMD ["duban", "run", "--no-worker"]
