FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY domain ./domain
COPY application ./application
COPY adapters ./adapters
COPY entrypoints ./entrypoints
RUN pip install --no-cache-dir .
ENV HTTP_HOST=0.0.0.0 HTTP_PORT=3000
EXPOSE 3000
USER nobody
CMD ["python", "-m", "entrypoints"]
