"""A bare FastAPI app that echoes a JSON body, served as `phienhieu serve` serves the API.

The yardstick of bench/api.py: same framework, same server and settings
(uvicorn.run, one process, log level "info"), no work.

    python3 bench/echo.py --port 8001
"""

from __future__ import annotations

import argparse

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


def create_echo() -> FastAPI:
    app = FastAPI(title="echo")

    @app.post("/echo")
    async def echo(request: Request) -> JSONResponse:
        return JSONResponse(await request.json())

    @app.get("/healthz")
    def healthz() -> JSONResponse:
        return JSONResponse({"status": "ok"})

    return app


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    args = parser.parse_args()
    uvicorn.run(create_echo(), host=args.host, port=args.port, log_level="info")
