"""GPUaaS Python client: submit and follow GPU jobs, read usage and invoices, administer
entities, over the platform's REST API (``/api/v1``, Bearer token). Standard library only.

    from gpuaas_client import Client
    c = Client("http://127.0.0.1:8080", token="gpa_...")   # or GPUAAS_URL / GPUAAS_TOKEN
    job = c.submit_job(["python", "train.py"], gpus=2, gpu_types=["h200"], walltime_s=3600)
    job = c.wait_job(job, timeout=3600)
    print(job["state"], job["cost"]["amount"], c.job_logs(job))

See clients/python/README.md; the API itself: docs/api.md and docs/openapi.yaml.
"""

from .client import DEFAULT_URL, FINAL_STATES, JOB_KINDS, JOB_STATES, Client
from .errors import GpuaasConnectionError, GpuaasError, JobWaitTimeout

__version__ = "0.1.0"

__all__ = ["Client", "GpuaasError", "GpuaasConnectionError", "JobWaitTimeout", "DEFAULT_URL",
           "JOB_STATES", "FINAL_STATES", "JOB_KINDS", "__version__"]
