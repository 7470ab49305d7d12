"""The floor for benchmarks/survey_autosave_benchmark.py: the same route, ``POST /s/{token}/autosave``,
on the same stack (uvicorn, FastAPI, the form parser) doing nothing but reading the form and answering
204, with no database, no validation, no CSRF check. Loaded by the same client at the same rate right
after the real server, its latency is what the machine (its load at that moment) and the web stack
give before any of joinedup's own work, so the ratio real / floor shows how much is ours.

    .venv/bin/python -m uvicorn --app-dir benchmarks autosave_floor_app:app --port 8001
"""

from fastapi import FastAPI, Request, Response

app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)


@app.post("/s/{token}/autosave")
async def autosave(request: Request, token: str):
    await request.form()
    return Response(status_code=204)


@app.get("/admin/login")
async def ready():
    return Response(status_code=200)
