"""The three ECS services' roles and component type names: all a service URN is made of besides the stack
and project. Plain data, so that ``scripts/service_urns.py`` (run by every deploy) needs no SDK import."""

# role -> component type name (type token ``saas:app:<name>``); the service inside is "<role>-service".
SERVICE_COMPONENTS = {"api": "ApiService", "worker": "WorkerService", "scheduler": "SchedulerService"}
