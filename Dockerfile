# One image for every role: ROLES (api, collector, scheduler; all by default) picks what a container does.
FROM python:3.13-slim
WORKDIR /app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
COPY pyproject.toml README.md ./
COPY src ./src
COPY simulators ./simulators
RUN pip install --no-cache-dir .
ENV API_HOST=0.0.0.0 API_PORT=8000 ENVIRONMENT=production DATA_DIR=/data
EXPOSE 8000
CMD ["pocketquant", "serve"]
