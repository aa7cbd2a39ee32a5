"""Model folders, downloads, tiny twins, loading; the artist's own weights.

The catalogue itself is domain data (nodes/model_catalogue.py). Importing this
package hands it the facts only the runtime reads: the artist's registered weights
and the shipped sketch models' sizes on disk.
"""

from engines.models.user_models import reload_registered

reload_registered()
