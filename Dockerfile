# phienhieu: the decoding service. Embedded SQLite by default (kept in the /data volume);
# set PHIENHIEU_DATABASE_URL=postgresql+psycopg://… for PostgreSQL (then run `phienhieu db upgrade`
# and `phienhieu codebook import --sample` once, or set PHIENHIEU_AUTO_INIT=true).

# Build stage: the full image has the C compiler that mypyc needs for the hot modules (setup.py).
FROM python:3.11 AS build
ENV PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml setup.py mypyc.ini README.md LICENSE alembic.ini ./
COPY app ./app
COPY codebook ./codebook
COPY grammar ./grammar
COPY migrations ./migrations
RUN pip wheel --no-deps --wheel-dir /wheels .

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PHIENHIEU_DATABASE_URL=sqlite:////data/phienhieu.sqlite3

COPY --from=build /wheels /wheels
RUN pip install /wheels/*.whl && rm -r /wheels \
    && useradd --system --home /data phienhieu && mkdir -p /data && chown phienhieu /data

USER phienhieu
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
CMD ["phienhieu", "serve", "--host", "0.0.0.0", "--port", "8000"]
