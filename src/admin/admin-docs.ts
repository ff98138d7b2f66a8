/** The admin API's OpenAPI document and Swagger UI page: /admin/docs (JSON at /admin/openapi.json). */
import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';

export const ADMIN_DOCS_PATH = 'admin/docs';
export const ADMIN_OPENAPI_PATH = 'admin/openapi.json';

export function setupAdminDocs(app: INestApplication): void {
  const config = new DocumentBuilder()
    .setTitle('Switchyard admin API')
    .setDescription(
      'Organizations, API keys, limits, the model catalogue, pools and the audit log. Authenticate with `Authorization: Bearer <key>` using a key with the ' +
        '`platform_admin` scope (every organization) or `org_admin` (its own organization only; other organizations answer 404). ' +
        'Errors use OpenAI\'s error object. Every mutating call is written to the audit log.',
    )
    .setVersion('1')
    .addBearerAuth()
    .build();
  const document = SwaggerModule.createDocument(app, config);
  // The /v1 inference API is OpenAI's (documented by OpenAI's own spec); this page is the admin API only.
  for (const path of Object.keys(document.paths)) if (!path.startsWith('/admin/')) delete document.paths[path];
  SwaggerModule.setup(ADMIN_DOCS_PATH, app, document, { jsonDocumentUrl: ADMIN_OPENAPI_PATH, yamlDocumentUrl: 'admin/openapi.yaml' });
}
