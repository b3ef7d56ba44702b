"""REST routes, one APIRouter per area, included by `api.app.create_app`."""
