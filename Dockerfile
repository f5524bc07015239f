FROM python:3.13-slim
WORKDIR /app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install --no-cache-dir .
ENV API_HOST=0.0.0.0 API_PORT=8000 ENVIRONMENT=production
EXPOSE 8000
CMD ["python", "-m", "src.main"]
